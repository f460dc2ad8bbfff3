/**
 * submit → wait → collect → retry, until every request is answered or
 * rejected: the loop that keeps at most `max_in_flight` batches (and
 * `max_enqueued_tokens` input tokens) in flight and resumes from whatever
 * state the last process left behind.
 */
import type OpenAI from 'openai';
import { APIConnectionError, APIError } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { buildRetryShards, shardsDirOf } from '../build/retry-shards.js';
import { shardLimitsOf } from '../build/shards.js';
import { type CollectContext, collectBatch } from '../collect/collect.js';
import type { PipelineConfig } from '../config/types.js';
import type { RunState } from '../state/run-state.js';
import type { ShardRow } from '../state/types.js';
import { createShardBatch, describeError, reconcileShard, type SubmitContext, uploadShard } from '../submit/submit.js';
import type { ProgressReporter } from '../wait/progress.js';

const TERMINAL: ReadonlySet<Batch['status']> = new Set(['completed', 'failed', 'expired', 'cancelled']);

export type LoopOutcome = 'finished' | 'pending';

export interface LoopOptions {
  client: OpenAI;
  state: RunState;
  config: PipelineConfig;
  runId: string;
  collect: Omit<CollectContext, 'client' | 'state'>;
  pollIntervalMs: number;
  /** Submit what can be submitted, then return 'pending'. */
  noWait: boolean;
  signal: AbortSignal;
  progress: ProgressReporter;
  log: (message: string) => void;
}

export async function runBatchLoop(options: LoopOptions): Promise<LoopOutcome> {
  const { state, config } = options;
  const submit: SubmitContext = { client: options.client, state, runId: options.runId, log: options.log };
  const collect: CollectContext = { ...options.collect, client: options.client, state };

  // Shards marked before a create whose answer this process never saw.
  for (const shard of state.shards().filter((s) => s.status === 'creating')) await reconcileShard(submit, shard);

  for (;;) {
    if (options.signal.aborted) return 'pending';
    // One shard a pass, so finished batches are collected between uploads (the provider works on
    // the others meanwhile) rather than after the last one; --no-wait submits them all at once.
    const moreToSubmit = await submitReady(submit, config, state.shards(), options.progress, options.noWait ? Infinity : 1);
    if (options.noWait) return state.shards().some(isOpen) ? 'pending' : 'finished';

    let changed = false;
    for (const shard of state.shards().filter((s) => s.status === 'submitted')) {
      if (options.signal.aborted) return 'pending';
      let batch: Batch;
      try {
        batch = await options.client.batches.retrieve(shard.batch_id!);
      } catch (error) {
        // The SDK already retried; an outage longer than that is waited out like a slow batch
        // (Ctrl-C stops with exit 3). Refusals (401, 404, ...) still end the run.
        if (!isTransient(error)) throw error;
        options.log(`could not poll batch ${shard.batch_id} (${describeError(error)}); trying again at the next poll`);
        continue;
      }
      state.updateShard(shard.number, {
        batch_status: batch.status,
        completed: batch.request_counts?.completed ?? 0,
        failed: batch.request_counts?.failed ?? 0,
        total: batch.request_counts?.total || shard.lines,
      });
      if (TERMINAL.has(batch.status)) {
        await collectBatch(collect, state.shard(shard.number), batch);
        reportStage(options.progress, 'download', state.shards());
        changed = true;
      }
    }
    reportProgress(options.progress, state.shards());

    const shards = state.shards();
    if (!shards.some(isOpen)) {
      const retries = await buildRetryShards(state, shardsDirOf(config.runDir), shardLimitsOf(config.batch));
      if (retries.length > 0) {
        options.log(`retrying in ${retries.length} new shard(s)`);
        continue;
      }
      return 'finished';
    }
    if (!changed && !moreToSubmit) await sleep(nextWakeMs(shards, options.pollIntervalMs), options.signal);
  }
}

/** Connection errors and 408/409/429/5xx answers: worth asking again later (anything else is not). */
function isTransient(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError) || error.status === undefined) return false;
  const status = error.status;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Shards not yet collected. */
function isOpen(shard: ShardRow): boolean {
  return shard.status !== 'collected';
}

/** Submits up to `limit` ready shards; true if another one was ready when it stopped. */
async function submitReady(
  context: SubmitContext,
  config: PipelineConfig,
  shards: ShardRow[],
  progress: ProgressReporter,
  limit: number,
): Promise<boolean> {
  const inFlight = shards.filter((s) => s.status === 'submitted');
  let slots = config.batch.max_in_flight - inFlight.length;
  let tokensInFlight = inFlight.reduce((sum, s) => sum + s.input_tokens, 0);
  const budget = config.batch.max_enqueued_tokens ?? Number.POSITIVE_INFINITY;
  const now = Date.now() / 1000;
  let submitted = 0;
  for (const shard of shards) {
    if (slots <= 0) return false;
    if (shard.status !== 'built' && shard.status !== 'uploaded') continue;
    if (shard.not_before > now) continue;
    // A shard alone over the budget still goes when nothing else is in flight.
    if (tokensInFlight > 0 && tokensInFlight + shard.input_tokens > budget) return false;
    if (submitted === limit) return true;
    if (shard.status === 'built') {
      await uploadShard(context, shard);
      reportStage(progress, 'upload', context.state.shards());
    }
    await createShardBatch(context, context.state.shard(shard.number));
    slots--;
    tokensInFlight += shard.input_tokens;
    submitted++;
  }
  return false;
}

function nextWakeMs(shards: ShardRow[], pollIntervalMs: number): number {
  const now = Date.now() / 1000;
  const waiting = shards.filter((s) => s.status === 'uploaded' && s.not_before > now).map((s) => (s.not_before - now) * 1000);
  if (shards.some((s) => s.status === 'submitted')) return pollIntervalMs;
  return waiting.length > 0 ? Math.max(50, Math.min(...waiting)) : pollIntervalMs;
}

/** Upload: shards past `built`; download: shards collected — with their bytes. */
function reportStage(progress: ProgressReporter, stage: 'upload' | 'download', shards: ShardRow[]): void {
  if (!progress.stage) return;
  const passed = shards.filter((s) => (stage === 'upload' ? s.status !== 'built' : s.status === 'collected'));
  progress.stage({
    stage,
    done: passed.length,
    total: shards.length,
    ...(stage === 'upload'
      ? { bytes: { done: passed.reduce((sum, s) => sum + s.bytes, 0), total: shards.reduce((sum, s) => sum + s.bytes, 0) } }
      : {}),
  });
}

function reportProgress(progress: ProgressReporter, shards: ShardRow[]): void {
  let total = 0;
  let completed = 0;
  let failed = 0;
  for (const shard of shards) {
    total += shard.lines;
    if (shard.status === 'collected') completed += shard.lines;
    else {
      completed += shard.completed;
      failed += shard.failed;
    }
  }
  progress.update({
    batchesInFlight: shards.filter((s) => s.status === 'submitted').length,
    batchesDone: shards.filter((s) => s.status === 'collected').length,
    requestsTotal: total,
    requestsCompleted: completed,
    requestsFailed: failed,
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
