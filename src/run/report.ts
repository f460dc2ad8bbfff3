/** report.json (counts, tokens, cost, rejects by reason) and manifest.json (what produced the outputs). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../config/types.js';
import { costUsd, priceOf } from '../cost/prices.js';
import type { MergeSummary } from '../merge/merge.js';
import type { RunState } from '../state/run-state.js';

export interface RunReport {
  rows_in: number;
  rows_out: Record<string, number>;
  rows_complete: number;
  rejects_by_reason: Record<string, number>;
  requests: { total: number; done: number; rejected: number; cached: number; units: number };
  batches: number;
  tokens: { input: number; output: number };
  /** At batch prices, from the usage the API returned (sync runs too, for comparison with the estimate). */
  cost_usd_batch: number | null;
  /** The batch-price estimate made before the first request was sent (null: unknown price, or no estimate stored). */
  cost_usd_estimated: number | null;
  /** (actual − estimated) / estimated; null when either is unknown or the estimate is 0. */
  estimate_error: number | null;
}

/** The estimate `run` stored in the state meta when it started sending. */
function storedEstimateUsd(state: RunState): number | null {
  const raw = state.getMeta('estimate');
  if (!raw) return null;
  try {
    const estimate = JSON.parse(raw) as { batchUsd?: unknown };
    return typeof estimate.batchUsd === 'number' ? estimate.batchUsd : null;
  } catch {
    return null;
  }
}

export function estimateError(actual: number | null, estimated: number | null): number | null {
  if (actual === null || estimated === null || estimated <= 0) return null;
  return (actual - estimated) / estimated;
}

export function buildReport(config: PipelineConfig, state: RunState, merge: MergeSummary): RunReport {
  const counts = state.requestCounts();
  const totals = state.tokenTotals();
  const price = priceOf(config.model, config.cost.price);
  const actual = price ? costUsd(price, totals.promptTokens, totals.completionTokens, true) : null;
  const estimated = storedEstimateUsd(state);
  return {
    rows_in: merge.rowsIn,
    rows_out: Object.fromEntries(merge.files.map((file) => [file.path, file.rows])),
    rows_complete: merge.rowsComplete,
    rejects_by_reason: merge.rejectsByReason,
    requests: { total: totals.requests, done: counts.done, rejected: counts.rejected, cached: totals.cached, units: state.unitCount() },
    batches: state.shards().filter((shard) => shard.batch_id !== null).length,
    tokens: { input: totals.promptTokens, output: totals.completionTokens },
    cost_usd_batch: actual,
    cost_usd_estimated: estimated,
    estimate_error: estimateError(actual, estimated),
  };
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function writeRunFiles(
  config: PipelineConfig,
  state: RunState,
  report: RunReport,
  merge: MergeSummary,
  toolVersion: string,
): Promise<void> {
  const outputs = [];
  for (const file of merge.files) {
    outputs.push({
      path: file.path,
      sha256: await sha256OfFile(file.path),
      rows: file.rows,
      rejects_path: file.rejectsPath,
      rejected: file.rejected,
    });
  }
  const events = state.events();
  const manifest = {
    tool: 'transbatch',
    tool_version: toolVersion,
    config_path: config.configPath,
    config_hash: state.getMeta('identity'),
    input: { path: config.input.path, sha256: state.getMeta('input_sha256'), rows: merge.rowsIn },
    model: config.model,
    target_languages: config.target_languages,
    batches: state
      .shards()
      .flatMap((shard) => (shard.batch_id ? [{ id: shard.batch_id, shard: shard.number, status: shard.batch_status }] : [])),
    timings: {
      started_at: state.getMeta('started_at'),
      prepared_at: events.find((event) => event.type === 'prepare.finished')?.at ?? null,
      finished_at: new Date().toISOString(),
    },
    outputs,
  };
  await writeJsonAtomic(join(config.runDir, 'report.json'), report);
  await writeJsonAtomic(join(config.runDir, 'manifest.json'), manifest);
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
