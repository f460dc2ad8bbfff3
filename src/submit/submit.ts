/**
 * submit: upload a shard and create its batch, without ever paying twice.
 * The shard is marked `creating` (with a create counter) before
 * batches.create; the SDK's own retries are off for that call, and after any
 * error — or on resume of a marked shard — the account's batches are listed
 * and matched by metadata, so a batch the server created while the client
 * did not hear back is adopted instead of duplicated.
 */
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { CHAT_COMPLETIONS_URL } from '../build/request.js';
import type { RunState } from '../state/run-state.js';
import type { ShardRow } from '../state/types.js';
import { findBatchesByMetadata } from './reconcile.js';
import { uploadBatchFile } from './upload.js';

export interface SubmitContext {
  client: OpenAI;
  state: RunState;
  runId: string;
  log: (message: string) => void;
  /**
   * Whether shards above a few MB go through the Uploads API (streamed in
   * parts) instead of one `files.create` (which the SDK buffers whole).
   * Default: yes, except for `AzureOpenAI` clients.
   */
  useUploadsApi?: boolean;
}

export function batchMetadata(runId: string, shard: ShardRow): Record<string, string> {
  return { transbatch_run: runId, transbatch_shard: String(shard.number), transbatch_create: String(shard.creates) };
}

/**
 * Uploads a shard through `uploadBatchFile`: one `files.create` for small
 * shards, the Uploads API in parts (each part retried there) for big ones, so
 * the shard is never held in memory. The SDK never retries a request with a
 * streaming body (the stream is spent), so transient failures of the whole
 * upload (429, 5xx, connection) are retried here, each time from the file. A
 * lost answer at worst leaves an unused file on the account; a file costs
 * nothing.
 */
export async function uploadShard(context: SubmitContext, shard: ShardRow, maxTries = 6): Promise<void> {
  const { client, state } = context;
  state.event('upload.started', { shard: shard.number });
  let file: Awaited<ReturnType<typeof uploadBatchFile>>;
  for (let attempt = 1; ; attempt++) {
    try {
      file = await uploadBatchFile(client, shard.path, {
        log: context.log,
        ...(context.useUploadsApi === undefined ? {} : { useUploadsApi: context.useUploadsApi }),
      });
      break;
    } catch (error) {
      if (attempt >= maxTries || !isRetryable(error)) throw error;
      const delayMs = retryDelayMs(error, attempt);
      context.log(`upload of shard ${shard.number} failed (${describeError(error)}); retrying in ${Math.round(delayMs / 1000)}s`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  state.setShardStatus(shard.number, 'uploaded', { file_id: file.id });
  state.event('upload.finished', { shard: shard.number, file_id: file.id, bytes: file.bytes });
}

/** Creates the shard's batch (or adopts the one a lost response created). */
export async function createShardBatch(context: SubmitContext, shard: ShardRow, maxTries = 5): Promise<Batch> {
  const { client, state } = context;
  const marked = { ...shard, creates: shard.creates + 1, marked_at: Math.floor(Date.now() / 1000) };
  state.setShardStatus(shard.number, 'creating', { creates: marked.creates, marked_at: marked.marked_at });
  state.event('batch.create.marked', { shard: shard.number, create: marked.creates });
  const metadata = batchMetadata(context.runId, marked);
  for (let attempt = 1; ; attempt++) {
    try {
      const batch = await client.batches.create(
        { input_file_id: shard.file_id!, endpoint: CHAT_COMPLETIONS_URL, completion_window: '24h', metadata },
        { maxRetries: 0 },
      );
      recordCreated(context, marked, batch);
      return batch;
    } catch (error) {
      const adopted = await adoptExisting(context, marked);
      if (adopted) return adopted;
      if (attempt >= maxTries || !isRetryable(error)) throw error;
      const delayMs = retryDelayMs(error, attempt);
      context.log(`batches.create for shard ${shard.number} failed (${describeError(error)}); retrying in ${Math.round(delayMs / 1000)}s`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * A shard found `creating` on resume: adopt its batch if the server has it,
 * else put it back to `uploaded` so it is created again.
 */
export async function reconcileShard(context: SubmitContext, shard: ShardRow): Promise<Batch | undefined> {
  const adopted = await adoptExisting(context, shard);
  if (!adopted) {
    context.state.setShardStatus(shard.number, 'uploaded');
    context.state.event('batch.create.unconfirmed', { shard: shard.number, create: shard.creates });
  }
  return adopted;
}

async function adoptExisting(context: SubmitContext, shard: ShardRow): Promise<Batch | undefined> {
  const found = await findBatchesByMetadata(context.client, batchMetadata(context.runId, shard), shard.marked_at - 300);
  const [first, ...duplicates] = found;
  if (!first) return undefined;
  recordCreated(context, shard, first);
  context.state.event('batch.adopted', { shard: shard.number, batch_id: first.id });
  // Two batches for one create can only come from a retried POST: cancel the extra ones before they run.
  for (const duplicate of duplicates) {
    context.log(`batch ${duplicate.id} duplicates ${first.id} (shard ${shard.number}); cancelling it`);
    await context.client.batches.cancel(duplicate.id).catch(() => {});
    context.state.event('batch.duplicate.cancelled', { shard: shard.number, batch_id: duplicate.id });
  }
  return first;
}

function recordCreated(context: SubmitContext, shard: ShardRow, batch: Batch): void {
  context.state.transaction(() => {
    context.state.setShardStatus(shard.number, 'submitted', {
      batch_id: batch.id,
      batch_status: batch.status,
      total: shard.lines,
      completed: 0,
      failed: 0,
    });
    context.state.countAttempts(shard.number);
    context.state.event('batch.created', { shard: shard.number, batch_id: batch.id, create: shard.creates });
  });
}

function isRetryable(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
}

function retryDelayMs(error: unknown, attempt: number): number {
  const headers = (error as { headers?: Headers }).headers;
  // The server's Retry-After wins, 0 included ("now"), as in the SDK; a missing header is null, not 0.
  const header = headers?.get?.('retry-after');
  const retryAfter = header === null || header === undefined || header.trim() === '' ? Number.NaN : Number(header);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, 60_000);
  return Math.min(500 * 2 ** (attempt - 1), 30_000);
}

export function describeError(error: unknown): string {
  const status = (error as { status?: number }).status;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return status ? `${status} ${message}` : (message ?? 'unknown error');
}
