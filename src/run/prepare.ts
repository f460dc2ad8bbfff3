/**
 * read → split → build: streams the input once, turns each record into
 * translation units, builds one request per distinct unit (dedupe and the
 * response cache decide which are sent) and writes them into shard files,
 * recording units, requests and shards in the run state as it goes.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promptSettings } from '../build/prompt.js';
import { batchLine, RequestBodyWriter, type RequestSettings } from '../build/request.js';
import { ShardWriter } from '../build/shards.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { PipelineConfig } from '../config/types.js';
import { outputRatio } from '../cost/tokens.js';
import { readRecords } from '../read/index.js';
import { planCells, splitSettings } from '../split/cells.js';
import { customIdOf } from '../split/custom-id.js';
import { approximateTokens } from '../split/tokens.js';
import type { RunState } from '../state/run-state.js';

export const SHARDS_DIR = 'shards';
/** Records per state transaction: large enough to amortise commits, small enough to bound the WAL. */
const RECORDS_PER_TRANSACTION = 2000;

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
  onProgress?: (rows: number) => void;
}

export function requestSettings(config: PipelineConfig): RequestSettings {
  return { model: config.model, params: config.request, prompt: promptSettings(config) };
}

export async function prepareRequests(config: PipelineConfig, state: RunState, options: PrepareOptions): Promise<PrepareSummary> {
  const split = splitSettings(config);
  const bodies = new RequestBodyWriter(requestSettings(config));
  const summary: PrepareSummary = { rows: 0, units: 0, requests: 0, deduplicated: 0, cached: 0, shards: 0 };
  const shards = new ShardWriter(
    join(config.runDir, SHARDS_DIR),
    {
      maxRequests: config.batch.max_requests_per_file,
      maxBytes: config.batch.max_bytes_per_file,
      ...(config.batch.max_enqueued_tokens ? { maxTokens: config.batch.max_enqueued_tokens } : {}),
    },
    1,
    (shard) => {
      state.insertShard({ ...shard, attempt: 1 });
      summary.shards++;
    },
  );

  state.clearPrepared();
  state.db.exec('BEGIN');
  try {
    for await (const { index, record } of readRecords(config.input.path, config.input.format)) {
      for (const lang of config.target_languages) {
        const ratio = outputRatio(lang, config.cost.output_ratio);
        for (const plan of planCells(record, split)) {
          for (const [chunkIndex, chunk] of plan.chunks.entries()) {
            const key = { row: index, cell: plan.cell, lang, chunk: chunkIndex };
            const { json: bodyJson, userContent, headTokens, key: hash } = bodies.build({ text: chunk.text, lang, field: plan.field });
            summary.units++;
            let requestId = config.split.dedupe ? state.findRequestByHash(hash) : undefined;
            if (requestId !== undefined) {
              summary.deduplicated++;
            } else {
              const customId = customIdOf(key);
              const textTokens = approximateTokens(chunk.text);
              const userTokens = userContent === chunk.text ? textTokens : approximateTokens(userContent);
              const tokens = { input: headTokens + userTokens, output: Math.ceil(textTokens * ratio) };
              const request = { customId, hash, row: index, text: chunk.text, tokens };
              const cached = options.cache?.get(hash);
              if (cached) {
                requestId = state.insertCachedRequest(request, cached.content, cached.finishReason);
                summary.cached++;
              } else {
                const shard = await shards.add(batchLine(customId, bodyJson), tokens.input, `row ${index} (${plan.path}, ${lang})`);
                requestId = state.insertQueuedRequest(request, shard);
              }
              summary.requests++;
            }
            state.insertUnit(index, plan.cell, lang, chunkIndex, requestId);
          }
        }
      }
      summary.rows++;
      if (summary.rows % RECORDS_PER_TRANSACTION === 0) {
        state.db.exec('COMMIT; BEGIN');
        options.onProgress?.(summary.rows);
      }
    }
    await shards.close();
    state.db.exec('COMMIT');
  } catch (error) {
    if (state.db.inTransaction) state.db.exec('ROLLBACK');
    // Nothing half-prepared stays behind: no shard may be submitted from a failed prepare.
    await shards.close().catch(() => {});
    state.clearPrepared();
    await rm(join(config.runDir, SHARDS_DIR), { recursive: true, force: true });
    throw error;
  }
  options.onProgress?.(summary.rows);
  return summary;
}
