/**
 * Drives each batch through its lifecycle in the background:
 * validating → in_progress → finalizing → completed, or failed / expired /
 * cancelling → cancelled. State is persisted at every transition (and counts
 * every so often), so a new emulator on the same data dir finishes the batch.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Batch, BatchError } from 'openai/resources/batches';
import { nowSeconds } from '../http/io.js';
import type { BatchEndpoint, Responder } from '../responder.js';
import type { BatchRecord, BatchStore } from '../store/batch-store.js';
import type { FileStore } from '../store/file-store.js';
import type { BatchStatus, EmulatorEvent, ResolvedSettings } from '../types.js';
import { registerOutputs, usageOf } from './outputs.js';
import { type ProcessCounts, processBatch } from './process.js';
import { JsonlSink, type ShuffleOptions } from './sink.js';
import { validateInput } from './validate.js';

export interface RunnerDeps {
  settings: ResolvedSettings;
  files: FileStore;
  batches: BatchStore;
  responder: Responder;
  concurrency: number;
  shuffle: ShuffleOptions | undefined;
  extraDelayMs: number;
  emit: (event: EmulatorEvent) => void;
}

const PERSIST_EVERY_MS = 500;
const IN_FLIGHT: readonly BatchStatus[] = ['validating', 'in_progress', 'finalizing'];
const UNFINISHED: readonly BatchStatus[] = ['validating', 'in_progress', 'finalizing', 'cancelling'];

export class BatchRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: RunnerDeps) {}

  /** Restarts every batch a previous emulator left unfinished. */
  resumeAll(): void {
    for (const record of this.deps.batches.list()) if (UNFINISHED.includes(record.batch.status)) this.start(record);
  }

  start(record: BatchRecord): void {
    const run = this.run(record)
      .catch((error: unknown) => {
        if (!this.shutdown.signal.aborted) console.error(`emulator: batch ${record.batch.id} crashed:`, error);
      })
      .finally(() => this.running.delete(record.batch.id));
    this.running.set(record.batch.id, run);
  }

  /** Tokens of batches still queued or running, for the enqueued-token limit. */
  enqueuedTokens(except: string): number {
    let total = 0;
    for (const record of this.deps.batches.list()) {
      if (record.batch.id !== except && IN_FLIGHT.includes(record.batch.status)) total += record.estimatedTokens;
    }
    return total;
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  private async transition(record: BatchRecord, status: BatchStatus, patch: Partial<Batch> = {}): Promise<void> {
    if (this.shutdown.signal.aborted) throw new Error('emulator closing');
    const stamp = `${status}_at` as const;
    const timestamps: Partial<Batch> = stamp in record.batch || status === 'validating' ? {} : { [stamp]: nowSeconds() };
    record.batch = { ...record.batch, ...timestamps, ...patch, status };
    // Emitted before the save: a client may read the new status while it is being saved.
    this.deps.emit({ type: 'batch.status', batchId: record.batch.id, status });
    await this.deps.batches.save(record);
  }

  private fail(record: BatchRecord, errors: BatchError[]): Promise<void> {
    return this.transition(record, 'failed', { errors: { object: 'list', data: errors } });
  }

  private async run(record: BatchRecord): Promise<void> {
    const { settings } = this.deps;
    const signal = this.shutdown.signal;
    if (record.batch.status === 'validating') {
      await sleep(settings.timing.validatingMs, undefined, { signal });
      if (!(await this.validate(record))) return;
    }
    await this.execute(record);
  }

  /** Returns true when the batch may run. */
  private async validate(record: BatchRecord): Promise<boolean> {
    const { settings, files } = this.deps;
    const input = files.get(record.batch.input_file_id);
    if (!input) {
      await this.fail(record, [
        { code: 'invalid_request', message: 'The input file no longer exists.', line: null, param: 'input_file_id' },
      ]);
      return false;
    }
    const result = await validateInput(files.contentPath(input.file.id), input.file.bytes, record.batch.endpoint, settings.limits);
    if (record.batch.status === 'cancelling') {
      await this.transition(record, 'cancelled');
      return false;
    }
    if (!result.ok) {
      await this.fail(record, result.errors);
      return false;
    }
    const model = result.model ?? 'unknown';
    const limit = settings.limits.enqueuedTokens;
    const overLimit = result.estimatedTokens + this.enqueuedTokens(record.batch.id) > limit;
    if (record.outcome.kind === 'token_limit_exceeded' || overLimit) {
      const message = `Enqueued token limit reached for ${model} in organization org-emulator. Limit: ${Number.isFinite(limit) ? limit : 0} enqueued tokens. Please try again once some in_progress batches have been completed.`;
      await this.fail(record, [{ code: 'token_limit_exceeded', message, line: null, param: null }]);
      return false;
    }
    record.estimatedTokens = result.estimatedTokens;
    await this.transition(record, 'in_progress', { model, request_counts: { total: result.total, completed: 0, failed: 0 } });
    return true;
  }

  private async execute(record: BatchRecord): Promise<void> {
    const { files, responder, settings } = this.deps;
    const input = files.get(record.batch.input_file_id);
    if (!input)
      return this.fail(record, [{ code: 'invalid_request', message: 'The input file no longer exists.', line: null, param: null }]);
    const output = new JsonlSink(files.tempPath(), this.deps.shuffle);
    const errors = new JsonlSink(files.tempPath(), this.deps.shuffle);
    const outcome = record.outcome;
    const resumedCancel = record.batch.status === 'cancelling' ? (record.processedAtCancel ?? 0) : undefined;
    let lastPersist = Date.now();
    const onProgress = (counts: ProcessCounts): Promise<void> | undefined => {
      const requestCounts = record.batch.request_counts;
      if (requestCounts) {
        requestCounts.completed = counts.completed;
        requestCounts.failed = counts.failed;
      }
      if (Date.now() - lastPersist < PERSIST_EVERY_MS) return undefined;
      lastPersist = Date.now();
      record.batch.usage = usageOf(counts);
      return this.deps.batches.save(record);
    };
    let result: Awaited<ReturnType<typeof processBatch>>;
    try {
      result = await processBatch({
        batchId: record.batch.id,
        inputPath: files.contentPath(input.file.id),
        endpoint: record.batch.endpoint as BatchEndpoint,
        created: record.batch.created_at,
        responder,
        output,
        errors,
        concurrency: this.deps.concurrency,
        delayMs: settings.timing.perRequestMs + this.deps.extraDelayMs,
        stopAfter: resumedCancel ?? (outcome.kind === 'expire' || outcome.kind === 'cancel' ? outcome.after : undefined),
        expireRest: outcome.kind === 'expire' && resumedCancel === undefined,
        shouldStop: () => record.batch.status === 'cancelling' && resumedCancel === undefined,
        signal: this.shutdown.signal,
        onProgress,
      });
    } catch (error) {
      await Promise.all([output.abort(), errors.abort()]);
      throw error;
    }
    if (this.shutdown.signal.aborted) {
      await Promise.all([output.abort(), errors.abort()]);
      return;
    }
    const { counts } = result;
    record.batch.request_counts = { total: record.batch.request_counts?.total ?? 0, completed: counts.completed, failed: counts.failed };
    record.batch.usage = usageOf(counts);
    if (outcome.kind === 'cancel' && record.batch.status === 'in_progress') {
      record.processedAtCancel = result.counts.completed + result.counts.failed;
      await this.transition(record, 'cancelling');
    }
    const fileIds = await registerOutputs(this.deps.files, record, output, errors);
    if (record.batch.status === 'cancelling') return this.transition(record, 'cancelled', fileIds);
    if (outcome.kind === 'expire' && result.stoppedEarly) return this.transition(record, 'expired', fileIds);
    await this.transition(record, 'finalizing');
    await sleep(settings.timing.finalizingMs, undefined, { signal: this.shutdown.signal });
    await this.transition(record, 'completed', fileIds);
  }
}
