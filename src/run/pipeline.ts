/**
 * The one place that knows the order of the stages:
 * read → split → build (prepare) → submit → wait → collect → retry → merge.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkOptions } from '../check/index.js';
import { effectiveChecks } from '../collect/effective-checks.js';
import { PackFallback } from '../collect/pack-fallback.js';
import type { PipelineConfig } from '../config/types.js';
import { type CostEstimate, describeEstimate, estimateCost, formatUsd } from '../cost/estimate.js';
import { TransbatchError } from '../errors.js';
import { type MergeSummary, mergeOutputs } from '../merge/merge.js';
import { openProvider } from '../provider/client.js';
import { chooseSendMode } from '../sync/mode.js';
import { runSyncLoop } from '../sync/sync-loop.js';
import type { ProgressReporter } from '../wait/progress.js';
import { runBatchLoop } from './batch-loop.js';
import { buildReport, type RunReport, writeRunFiles } from './report.js';
import { DOWNLOADS_DIR, ensurePrepared, openWorkspace, type RunWorkspace } from './workspace.js';

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  fresh: boolean;
  noWait: boolean;
  pollIntervalMs?: number;
  /** Refuse to submit when the estimated batch cost of what is left to send is above this. */
  maxCostUsd?: number;
  /** Asked (after the --max-cost check) before anything is sent; false refuses with nothing submitted. */
  confirmCost?: (estimate: CostEstimate) => Promise<boolean>;
  log: (message: string) => void;
  progress: ProgressReporter;
  toolVersion: string;
  /** Called with the secrets of the provider so the caller can redact them. */
  onSecrets?: (secrets: string[]) => void;
}

export type RunResult =
  | { kind: 'finished'; report: RunReport; merge: MergeSummary; alreadyDone: boolean }
  | { kind: 'pending'; reason: 'no-wait' | 'interrupted' };

/** Outputs are not part of the run identity; this tells whether they changed since the last merge. */
function outputsKey(config: PipelineConfig): string {
  return createHash('sha256').update(JSON.stringify(config.outputs)).digest('hex').slice(0, 16);
}

export async function runPipeline(config: PipelineConfig, options: RunOptions): Promise<RunResult> {
  const workspace = await openWorkspace(config, { fresh: options.fresh, log: options.log });
  try {
    const done = alreadyFinished(workspace);
    if (done) return done;
    let preparedNow = false;
    const prepared = await ensurePrepared(workspace, (rows) => {
      preparedNow = true;
      if (options.progress.stage) options.progress.stage({ stage: 'prepare', done: rows });
      else options.log(`prepared ${rows} rows`);
    });
    if (preparedNow) options.progress.stage?.({ stage: 'prepare', done: prepared.rows, total: prepared.rows });
    const estimate = estimateCost(config, workspace.state, prepared);
    const nothingSent = workspace.state.shards().every((shard) => shard.status === 'built');
    if (nothingSent) for (const line of describeEstimate(estimate)) options.log(line);
    if (nothingSent && estimate.billableRequests > 0) {
      if (options.maxCostUsd !== undefined) {
        if (estimate.batchUsd === null) {
          throw new TransbatchError('cost', `--max-cost: no price is known for model "${config.model}"; set cost.price in the config`, {
            file: config.configPath,
          });
        }
        if (estimate.batchUsd > options.maxCostUsd) {
          throw new TransbatchError(
            'cost',
            `the estimated cost ${formatUsd(estimate.batchUsd)} is above --max-cost ${formatUsd(options.maxCostUsd)}; nothing was submitted`,
          );
        }
      }
      if (options.confirmCost && !(await options.confirmCost(estimate))) {
        throw new TransbatchError('cost', `not confirmed (estimated cost ${formatUsd(estimate.batchUsd)}); nothing was submitted`);
      }
    }
    // What report.json compares the actual cost with: the estimate made before the first request was sent.
    if (nothingSent) workspace.state.setMeta('estimate', JSON.stringify(estimate));

    const open = workspace.state.shards().some((shard) => shard.status !== 'collected') || workspace.state.hasRetries();
    if (open) {
      const outcome = await sendAndCollect(workspace, options);
      if (outcome === 'pending') return { kind: 'pending', reason: options.noWait ? 'no-wait' : 'interrupted' };
    }
    return {
      kind: 'finished',
      ...(await mergeAndReport(workspace, options.toolVersion, (rows) =>
        options.progress.stage?.({ stage: 'merge', done: rows, total: prepared.rows }),
      )),
      alreadyDone: false,
    };
  } finally {
    options.progress.stop();
    workspace.close();
  }
}

/** SDK retries per call on 408/409/429/5xx and connection errors during a run. */
const TRANSIENT_RETRIES = 6;

/** A finished run whose outputs are still there and whose output settings did not change. */
function alreadyFinished(workspace: RunWorkspace): RunResult | undefined {
  const { state, config } = workspace;
  if (state.getMeta('finished') !== outputsKey(config) || !existsSync(join(config.runDir, 'report.json'))) return undefined;
  const report = JSON.parse(state.getMeta('report') ?? 'null') as RunReport | null;
  const merge = JSON.parse(state.getMeta('merge') ?? 'null') as MergeSummary | null;
  if (!report || !merge?.files.every((file) => existsSync(file.path))) return undefined;
  return { kind: 'finished', report, merge, alreadyDone: true };
}

async function sendAndCollect(workspace: RunWorkspace, options: RunOptions): Promise<'finished' | 'pending'> {
  const { config, state } = workspace;
  const provider = await openProvider(config, options.env);
  options.onSecrets?.(provider.secrets);
  try {
    let runId = state.getMeta('run_id');
    if (!runId) {
      runId = randomUUID();
      state.setMeta('run_id', runId);
    }
    options.log(`sending to ${provider.describe}`);
    const classify = {
      checks: effectiveChecks(config),
      checkOptions: checkOptions(config),
      ...(config.source_language ? { sourceLang: config.source_language } : {}),
    };
    const packFallback = new PackFallback(config);
    const chosen = chooseSendMode(config, state);
    state.event('send.mode', { mode: chosen.mode, why: chosen.why });
    if (chosen.mode === 'sync') {
      if (config.mode === 'auto') options.log(`direct calls (${chosen.why})`);
      return await runSyncLoop({
        client: provider.client,
        state,
        config,
        classify,
        maxAttempts: config.retry.max_attempts,
        packFallback,
        signal: options.signal,
        progress: options.progress,
        log: options.log,
      });
    }
    return await runBatchLoop({
      // A batch run lives for hours: ride out 429/5xx storms longer than the SDK's default 2 retries
      // (Retry-After is honoured; else 0.5 s doubling to 8 s, ~25 s in all). batches.create keeps its
      // own maxRetries 0 (see submit.ts), so this never duplicates a batch.
      client: provider.client.withOptions({ maxRetries: TRANSIENT_RETRIES }),
      state,
      config,
      runId,
      collect: {
        downloadsDir: join(config.runDir, DOWNLOADS_DIR),
        classify,
        maxAttempts: config.retry.max_attempts,
        packFallback,
        log: options.log,
        // Never re-create sooner than a poll, never later than the usual 15 s for the first retry:
        // a 50 ms poll against the emulator retries at once, the default 30 s poll waits 15 s.
        tokenLimitBackoffBaseSeconds: Math.min(15, (options.pollIntervalMs ?? config.batch.poll_interval) / 1000),
      },
      pollIntervalMs: options.pollIntervalMs ?? config.batch.poll_interval,
      noWait: options.noWait,
      signal: options.signal,
      progress: options.progress,
      log: options.log,
    });
  } finally {
    await provider.close();
  }
}

/** Merges every output, writes report and manifest, fills the response cache. */
export async function mergeAndReport(
  workspace: RunWorkspace,
  toolVersion: string,
  onProgress?: (rows: number) => void,
): Promise<{ report: RunReport; merge: MergeSummary }> {
  const { config, state } = workspace;
  state.event('merge.started');
  const merge = await mergeOutputs(config, state, onProgress);
  const report = buildReport(config, state, merge);
  await writeRunFiles(config, state, report, merge, toolVersion);
  if (workspace.cache) {
    const cache = workspace.cache;
    const answers = state.doneAnswers();
    const stored = cache.putMany(
      (function* () {
        for (const answer of answers) yield { key: answer.hash, content: answer.content, finishReason: answer.finish_reason };
      })(),
    );
    state.event('cache.filled', { stored });
  }
  const complete = state.requestCounts();
  if (complete.queued === 0 && complete.retry === 0) {
    state.setMeta('finished', outputsKey(config));
    state.setMeta('report', JSON.stringify(report));
    state.setMeta('merge', JSON.stringify(merge));
  }
  state.event('merge.finished', { rows_in: merge.rowsIn, rejects: merge.rejectsByReason });
  return { report, merge };
}
