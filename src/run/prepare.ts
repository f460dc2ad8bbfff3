/**
 * read → split → build: streams the input once, turns each record into
 * translation units, builds one request per distinct unit (dedupe and the
 * response cache decide which are sent) and writes them into shard files,
 * recording units, requests and shards in the run state as it goes.
 */
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { packedRequestSettings, packedResponseFormatTail, packedUserContent } from '../build/pack.js';
import { promptSettings } from '../build/prompt.js';
import { type BuiltBody, batchLinePrefix, RequestBodyWriter, type RequestSettings } from '../build/request.js';
import { RequestIndex } from '../build/request-index.js';
import { shardLimitsOf } from '../build/shards.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { PipelineConfig } from '../config/types.js';
import { outputRatio } from '../cost/tokens.js';
import { readRecords } from '../read/index.js';
import { planCells, splitSettings } from '../split/cells.js';
import { customIdOf, packedCustomIdOf } from '../split/custom-id.js';
import { approximateTokens, countTokens } from '../split/tokens.js';
import { PrepareWriter } from '../state/prepare-writer.js';
import type { RunState } from '../state/run-state.js';

export const SHARDS_DIR = 'shards';
const PROGRESS_EVERY_ROWS = 2000;

export interface PrepareSummary {
  rows: number;
  units: number;
  requests: number;
  deduplicated: number;
  cached: number;
  shards: number;
}

export interface PrepareOptions {
  cache: ResponseCache | null;
  /** Count the prompt heads with the tokenizer (for `estimate`); else the fast estimate. */
  exactTokens?: boolean;
  onProgress?: (rows: number) => void;
}

/** Input tokens: the head counted exactly (memoised), the text estimated; output from the text and the language's ratio. */
function requestTokens(built: BuiltBody, text: string, ratio: number): { input: number; output: number } {
  const textTokens = approximateTokens(text);
  const userTokens = built.userContent === text ? textTokens : approximateTokens(built.userContent);
  return { input: built.headTokens + userTokens, output: Math.ceil(textTokens * ratio) };
}

/** A generous guess of the requests an input makes (~400 bytes each in instruction datasets), to size dedupe's index. */
function expectedRequests(config: PipelineConfig): number {
  const bytes = statSync(config.input.path, { throwIfNoEntry: false })?.size ?? 0;
  return Math.ceil((bytes / 256) * config.target_languages.length);
}

/** Azure names the model by its deployment: with `provider.deployment`, batch lines carry it as `body.model`. */
export function requestSettings(config: PipelineConfig): RequestSettings {
  const model = config.provider.kind === 'azure' && config.provider.deployment ? config.provider.deployment : config.model;
  return { model, params: config.request, prompt: promptSettings(config) };
}

export async function prepareRequests(config: PipelineConfig, state: RunState, options: PrepareOptions): Promise<PrepareSummary> {
  const split = splitSettings(config);
  const countHead = options.exactTokens ? countTokens : approximateTokens;
  const bodies = new RequestBodyWriter(requestSettings(config), countHead);
  const packer = config.split.pack === 'row' ? new RequestBodyWriter(packedRequestSettings(requestSettings(config)), countHead) : null;
  const summary: PrepareSummary = { rows: 0, units: 0, requests: 0, deduplicated: 0, cached: 0, shards: 0 };
  state.clearPrepared();
  // From here until it finishes, the writer thread is the only one writing to the run state.
  const writer = new PrepareWriter(state, config.runDir);
  const shards = writer.shards(join(config.runDir, SHARDS_DIR), shardLimitsOf(config.batch), () => {
    summary.shards++;
  });
  const index = config.split.dedupe
    ? new RequestIndex((id) => writer.keyOf(id), writer.keyOverflow, { expectedKeys: expectedRequests(config) })
    : null;

  /** The bytes after a line's user content: the body's tail and the line's closing brace (a few distinct tails per run). */
  const lineEnds = new Map<string, Buffer>();
  const lineEndOf = (tail: string): Buffer => {
    let bytes = lineEnds.get(tail);
    if (bytes === undefined) {
      bytes = Buffer.from(`${tail}}`);
      if (lineEnds.size >= 64) lineEnds.clear();
      lineEnds.set(tail, bytes);
    }
    return bytes;
  };

  /** Dedupe, cache, or a new line in a shard: returns the request that answers this body. */
  const requestFor = (built: BuiltBody, customId: string, row: number, text: string, ratio: number, where: string): number => {
    summary.units++;
    const existing = index?.find(built.binaryKey);
    if (existing !== undefined) {
      summary.deduplicated++;
      return existing;
    }
    const request = { customId, key: built.binaryKey, row, text, tokens: requestTokens(built, text, ratio) };
    summary.requests++;
    const cached = options.cache?.get(built.key);
    let id: number;
    if (cached) {
      summary.cached++;
      id = writer.cached(request, cached);
    } else {
      const line = { prefix: batchLinePrefix(customId), head: built.head, content: built.contentJson, suffix: lineEndOf(built.tail) };
      id = writer.queued(request, shards.add(line, request.tokens.input, where), built.userContent === text);
    }
    index?.remember(built.binaryKey, id);
    return id;
  };

  try {
    for await (const { index: row, record } of readRecords(config.input.path, config.input.format)) {
      const plans = planCells(record, split);
      for (const lang of config.target_languages) {
        const ratio = outputRatio(lang, config.cost.output_ratio);
        // Packing takes the cells that fit in one chunk; long ones still go chunk by chunk.
        const packed =
          packer && plans.filter((plan) => plan.chunks.length === 1).length >= 2 ? plans.filter((plan) => plan.chunks.length === 1) : [];
        if (packer && packed.length > 0) {
          const texts = packed.map((plan) => [plan.path, plan.chunks[0]!.text] as const);
          const userContent = packedUserContent(texts);
          const built = packer.build({ text: userContent, lang, field: 'row' }, packedResponseFormatTail(texts.map(([key]) => key)));
          const requestId = requestFor(built, packedCustomIdOf(row, lang), row, userContent, ratio, `row ${row} (packed, ${lang})`);
          for (const plan of packed) writer.unit(row, plan.cell, lang, 0, requestId, plan.path);
          summary.units += packed.length - 1;
        }
        for (const plan of plans) {
          if (packed.includes(plan)) continue;
          for (const [chunkIndex, chunk] of plan.chunks.entries()) {
            const built = bodies.build({ text: chunk.text, lang, field: plan.field });
            const customId = customIdOf({ row, cell: plan.cell, lang, chunk: chunkIndex });
            const requestId = requestFor(built, customId, row, chunk.text, ratio, `row ${row} (${plan.path}, ${lang})`);
            writer.unit(row, plan.cell, lang, chunkIndex, requestId);
          }
        }
      }
      summary.rows++;
      await writer.flush();
      if (summary.rows % PROGRESS_EVERY_ROWS === 0) options.onProgress?.(summary.rows);
    }
    shards.close();
    await writer.finish();
    // The per-cell fallback of packed requests dedupes against every request after prepare.
    if (packer && config.split.dedupe) state.indexRequestKeys();
  } catch (error) {
    // Nothing half-prepared stays behind: no shard may be submitted from a failed prepare.
    await writer.abort();
    try {
      shards.close();
    } catch {}
    state.clearPrepared();
    await rm(join(config.runDir, SHARDS_DIR), { recursive: true, force: true });
    throw error;
  }
  options.onProgress?.(summary.rows);
  return summary;
}
