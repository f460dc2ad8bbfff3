/** The Batch API: create (with its injected faults), list, retrieve, cancel. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Batch } from 'openai/resources/batches';
import { ApiError, badRequest, notFound } from '../http/errors.js';
import { nowSeconds, readJsonBody, sendJson } from '../http/io.js';
import { newBatchId } from '../ids.js';
import { BATCH_ENDPOINTS, type BatchEndpoint } from '../responder.js';
import type { BatchRecord } from '../store/batch-store.js';
import type { RouteContext } from './context.js';

const DAY = 86_400;

function parseMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest("'metadata' must be an object of strings.", 'metadata');
  const entries = Object.entries(value);
  if (entries.length > 16) throw badRequest("'metadata' may have at most 16 pairs.", 'metadata');
  for (const [key, item] of entries) {
    if (key.length > 64) throw badRequest(`metadata key ${JSON.stringify(key)} is longer than 64 characters.`, 'metadata');
    if (typeof item !== 'string' || item.length > 512)
      throw badRequest(`metadata.${key} must be a string of at most 512 characters.`, 'metadata');
  }
  return value as Record<string, string>;
}

function parseOutputExpiry(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const expiry = value as { anchor?: unknown; seconds?: unknown };
  if (expiry.anchor !== 'created_at' || typeof expiry.seconds !== 'number' || expiry.seconds < 3600 || expiry.seconds > 30 * DAY) {
    throw badRequest("'output_expires_after' must be {anchor: 'created_at', seconds: 3600..2592000}.", 'output_expires_after');
  }
  return expiry.seconds;
}

function requireBatch(context: RouteContext): BatchRecord {
  const record = context.deps.batches.get(context.id);
  if (!record) throw notFound(`No batch found with id '${context.id}'.`);
  return record;
}

export async function createBatch(context: RouteContext): Promise<void> {
  const { req, res, deps, fault } = context;
  const body = await readJsonBody(req);
  const inputFileId = body['input_file_id'];
  if (typeof inputFileId !== 'string') throw badRequest("Missing required parameter: 'input_file_id'.", 'input_file_id');
  const endpoint = body['endpoint'];
  if (!BATCH_ENDPOINTS.includes(endpoint as BatchEndpoint)) {
    throw badRequest(`Invalid 'endpoint': expected one of ${BATCH_ENDPOINTS.join(', ')}.`, 'endpoint');
  }
  if (body['completion_window'] !== '24h') throw badRequest("Invalid 'completion_window': only '24h' is supported.", 'completion_window');
  const metadata = parseMetadata(body['metadata']);
  const outputExpiresAfterSeconds = parseOutputExpiry(body['output_expires_after']);
  const input = deps.files.get(inputFileId);
  if (!input) throw notFound(`No such File object: ${inputFileId}`);
  if (input.file.purpose !== 'batch')
    throw badRequest(`File ${inputFileId} has purpose '${input.file.purpose}', expected 'batch'.`, 'input_file_id');

  const createdAt = nowSeconds();
  const seq = deps.batches.nextSeq();
  const batch: Batch = {
    id: newBatchId(),
    object: 'batch',
    endpoint: endpoint as BatchEndpoint,
    input_file_id: inputFileId,
    completion_window: '24h',
    status: 'validating',
    created_at: createdAt,
    expires_at: createdAt + DAY,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata,
  };
  const record: BatchRecord = {
    batch,
    seq,
    outcome: deps.faults.batchOutcome(seq, metadata),
    inputSha256: input.sha256,
    estimatedTokens: 0,
  };
  if (outputExpiresAfterSeconds !== undefined) record.outputExpiresAfterSeconds = outputExpiresAfterSeconds;
  await deps.batches.save(record);
  deps.emit({ type: 'batch.created', batchId: batch.id, inputFileId, inputSha256: input.sha256, metadata });
  deps.emit({ type: 'batch.status', batchId: batch.id, status: 'validating' });
  deps.runner.start(record);

  if (fault?.action === 'create_then_error') {
    throw new ApiError(
      fault.status,
      'server_error',
      'The server had an error while processing your request (injected after creating the batch).',
      'server_error',
    );
  }
  if (fault?.action === 'create_then_hang') {
    const aborted = new AbortController();
    res.once('close', () => aborted.abort());
    deps.hangs.add(aborted);
    await sleep(fault.hang_ms, undefined, { signal: aborted.signal }).catch(() => undefined);
    deps.hangs.delete(aborted);
    if (res.destroyed || res.writableEnded) return;
  }
  sendJson(res, 200, record.batch);
}

export async function listBatches(context: RouteContext): Promise<void> {
  const { url, deps, res } = context;
  const limit = Number(url.searchParams.get('limit') ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badRequest('limit must be an integer between 1 and 100.', 'limit');
  const all = deps.batches.list();
  const after = url.searchParams.get('after');
  const start = after ? all.findIndex((record) => record.batch.id === after) + 1 : 0;
  const page = after && start === 0 ? [] : all.slice(start, start + limit);
  const data = page.map((record) => record.batch);
  sendJson(res, 200, {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: page.length > 0 && start + limit < all.length,
  });
}

export async function retrieveBatch(context: RouteContext): Promise<void> {
  sendJson(context.res, 200, requireBatch(context).batch);
}

export async function cancelBatch(context: RouteContext): Promise<void> {
  const record = requireBatch(context);
  const { status } = record.batch;
  if (status === 'validating' || status === 'in_progress') {
    const counts = record.batch.request_counts;
    record.processedAtCancel = (counts?.completed ?? 0) + (counts?.failed ?? 0);
    record.batch = { ...record.batch, status: 'cancelling', cancelling_at: nowSeconds() };
    // Like the real API, the answer reports `cancelling`: the runner may reach
    // `cancelled` while this save is in flight, but only later retrieves see it.
    const answer = structuredClone(record.batch);
    context.deps.emit({ type: 'batch.status', batchId: record.batch.id, status: 'cancelling' });
    await context.deps.batches.save(record);
    sendJson(context.res, 200, answer);
    return;
  }
  if (status !== 'cancelling') throw badRequest(`Cannot cancel a batch with status '${status}'.`);
  sendJson(context.res, 200, record.batch);
}
