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
  const { state } = options;
  const collector = new Collector({ ...options.collect, client: options.client, state }, options.signal, () =>
    reportStage(options.progress, 'download', state.shards()),
  );
  try {
    const outcome = await loop(options, collector);
    await collector.drain();
    return outcome;
  } finally {
    // Never leave a collect running behind the caller's back (it writes to the state).
    await collector.settled();
  }
}

async function loop(options: LoopOptions, collector: Collector): Promise<LoopOutcome> {
  const { state, config } = options;
  const submit: SubmitContext = { client: options.client, state, runId: options.runId, log: options.log };

  // Shards marked before a create whose answer this process never saw.
  for (const shard of state.shards().filter((s) => s.status === 'creating')) await reconcileShard(submit, shard);

  for (;;) {
    collector.throwIfFailed();
    if (options.signal.aborted) return 'pending';
    // One shard a pass, so finished batches are polled between uploads (the provider works on
    // the others meanwhile) rather than after the last one; --no-wait submits them all at once.
    const moreToSubmit = await submitReady(submit, config, state.shards(), options.progress, options.noWait ? Infinity : 1);
    if (options.noWait) return state.shards().some(isOpen) ? 'pending' : 'finished';

    let changed = false;
    for (const shard of state.shards().filter((s) => s.status === 'submitted' && !collector.has(s.number))) {
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
        // Collected in the background: the next shard uploads while this one downloads and is recorded.
        collector.add(shard.number, batch);
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
    // A finished collect may free a slot or end the run: it ends the wait too.
    if (!changed && !moreToSubmit) await sleep(nextWakeMs(shards, options.pollIntervalMs), options.signal, collector.nextSettled());
  }
}

/**
 * Collects finished batches one after another, in the background: the loop
 * meanwhile uploads, creates and polls. Each collect's state writes happen in
 * one synchronous transaction (see collect.ts), so they never interleave with
 * the loop's. The first failure stops further collects and is rethrown by the
 * loop; after Ctrl-C, the collect under way finishes and the queued ones are
 * left for the next run (their shards stay `submitted`).
 */
class Collector {
  private chain: Promise<void> = Promise.resolve();
  /** Shards queued or being collected. */
  private readonly pending = new Set<number>();
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private woken: Promise<void> | undefined;

  constructor(
    private readonly context: CollectContext,
    private readonly signal: AbortSignal,
    private readonly onCollected: () => void,
  ) {}

  has(shard: number): boolean {
    return this.pending.has(shard);
  }

  add(shard: number, batch: Batch): void {
    this.pending.add(shard);
    this.chain = this.chain.then(async () => {
      try {
        if (this.failure || this.signal.aborted) return;
        await collectBatch(this.context, this.context.state.shard(shard), batch);
        this.onCollected();
      } catch (error) {
        this.failure ??= { error };
      } finally {
        this.pending.delete(shard);
        this.wake?.();
      }
    });
  }

  /** Resolves when the next collect ends (never, while none is queued). */
  nextSettled(): Promise<void> {
    if (this.pending.size === 0) return new Promise<void>(() => {});
    this.woken ??= new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        this.woken = undefined;
        resolve();
      };
    });
    return this.woken;
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Waits for the queued collects; throws the first failure. */
  async drain(): Promise<void> {
    await this.chain;
    this.throwIfFailed();
  }

  /** Waits for the queued collects, whatever their outcome. */
  settled(): Promise<void> {
    return this.chain;
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
  // A finished batch waiting to be collected no longer counts against the provider's limits.
  const inFlight = shards.filter((s) => s.status === 'submitted' && !TERMINAL.has(s.batch_status as Batch['status']));
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

/** Waits `ms`, or less if `signal` aborts or `wake` resolves first. */
function sleep(ms: number, signal: AbortSignal, wake: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
    wake.then(done);
  });
}
