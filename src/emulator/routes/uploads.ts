/**
 * The Uploads API: create an Upload, add parts (multipart field `data`, at
 * most 64 MB each, streamed to disk), complete it (the parts, in the given
 * order, concatenated — streamed — into a regular file, which emits the same
 * `file.created` event as `POST /v1/files`), or cancel it.
 */
import { createHash, type Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { FileObject } from 'openai/resources/files';
import { badRequest, notFound } from '../http/errors.js';
import { nowSeconds, readJsonBody, sendJson } from '../http/io.js';
import type { StoredPart, UploadRecord } from '../store/upload-store.js';
import type { RouteContext } from './context.js';
import { fileCreatedEvent } from './files.js';

const PURPOSES = new Set(['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals']);
export const MAX_UPLOAD_TOTAL_BYTES = 8 * 1024 ** 3;
export const MAX_PART_BYTES = 64 * 1024 * 1024;
const MIN_FILE_EXPIRY = 3600;
const MAX_FILE_EXPIRY = 30 * 24 * 3600;

const completing = new WeakSet<UploadRecord>();

async function* hashing(source: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

function requireUpload(context: RouteContext): UploadRecord {
  const record = context.deps.uploads.get(context.id, nowSeconds());
  if (!record) throw notFound(`No such Upload object: ${context.id}`);
  return record;
}

function requirePending(record: UploadRecord): void {
  if (record.upload.status !== 'pending' || completing.has(record)) {
    const status = completing.has(record) ? 'being completed' : record.upload.status;
    throw badRequest(`Upload ${record.upload.id} is ${status}; it no longer accepts this request.`, null, 'upload_not_pending');
  }
}

function expiresAfter(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const policy = value as { anchor?: unknown; seconds?: unknown } | null;
  if (
    policy === null ||
    typeof policy !== 'object' ||
    policy.anchor !== 'created_at' ||
    typeof policy.seconds !== 'number' ||
    !Number.isInteger(policy.seconds) ||
    policy.seconds < MIN_FILE_EXPIRY ||
    policy.seconds > MAX_FILE_EXPIRY
  ) {
    throw badRequest(`'expires_after' must be {anchor: 'created_at', seconds: ${MIN_FILE_EXPIRY}..${MAX_FILE_EXPIRY}}.`, 'expires_after');
  }
  return policy.seconds;
}

export async function createUpload(context: RouteContext): Promise<void> {
  const body = await readJsonBody(context.req);
  const { bytes, filename, purpose } = body;
  const mimeType = body['mime_type'];
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0 || bytes > MAX_UPLOAD_TOTAL_BYTES) {
    throw badRequest(`'bytes' must be an integer between 0 and ${MAX_UPLOAD_TOTAL_BYTES}.`, 'bytes');
  }
  if (typeof filename !== 'string' || filename === '') throw badRequest("Missing required parameter: 'filename'.", 'filename');
  if (typeof mimeType !== 'string' || mimeType === '') throw badRequest("Missing required parameter: 'mime_type'.", 'mime_type');
  if (typeof purpose !== 'string') throw badRequest("Missing required parameter: 'purpose'.", 'purpose');
  if (!PURPOSES.has(purpose)) throw badRequest(`Invalid value for 'purpose': ${JSON.stringify(purpose)}.`, 'purpose');
  const record = context.deps.uploads.create({
    bytes,
    filename,
    purpose: purpose as FileObject['purpose'],
    mimeType,
    createdAt: nowSeconds(),
    expiresAfterSeconds: expiresAfter(body['expires_after']),
  });
  sendJson(context.res, 200, record.upload);
}

export async function addUploadPart(context: RouteContext): Promise<void> {
  const { req, res, deps } = context;
  let record: UploadRecord;
  try {
    record = requireUpload(context);
    requirePending(record);
    if (!(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) throw badRequest('Expected a multipart/form-data body.');
  } catch (error) {
    req.resume();
    throw error;
  }
  let upload: { stored: Promise<StoredPart>; truncated: () => boolean } | undefined;
  const parser = busboy({ headers: req.headers, limits: { fileSize: MAX_PART_BYTES, files: 1 } });
  parser.on('file', (name, stream) => {
    if (name !== 'data' || upload) {
      stream.resume();
      return;
    }
    const stored = deps.uploads.addPart(record, stream, nowSeconds());
    // Awaited once the body is read; if the client aborts first, the request fails and this rejection must not go unhandled.
    stored.catch(() => undefined);
    upload = { stored, truncated: () => stream.truncated === true };
  });
  await pipeline(req, parser);
  if (!upload) throw badRequest("Missing required parameter: 'data'.", 'data');
  const stored = await upload.stored;
  const problem = upload.truncated()
    ? badRequest(`A part may be at most ${MAX_PART_BYTES} bytes.`, 'data')
    : record.upload.status !== 'pending'
      ? badRequest(`Upload ${record.upload.id} is ${record.upload.status}; it no longer accepts parts.`, null, 'upload_not_pending')
      : undefined;
  if (problem) {
    await deps.uploads.discardPart(stored);
    throw problem;
  }
  deps.uploads.keepPart(record, stored);
  sendJson(res, 200, stored.part);
}

export async function completeUpload(context: RouteContext): Promise<void> {
  const { deps } = context;
  const body = await readJsonBody(context.req);
  const record = requireUpload(context);
  requirePending(record);
  const partIds = body['part_ids'];
  if (!Array.isArray(partIds) || partIds.some((id) => typeof id !== 'string')) {
    throw badRequest("'part_ids' must be an array of Part ids.", 'part_ids');
  }
  const md5 = body['md5'];
  if (md5 !== undefined && typeof md5 !== 'string') throw badRequest("'md5' must be a string.", 'md5');
  const parts: StoredPart[] = [];
  for (const id of partIds as string[]) {
    const part = record.parts.get(id);
    if (!part) throw badRequest(`Part ${JSON.stringify(id)} does not belong to Upload ${record.upload.id}.`, 'part_ids');
    if (parts.includes(part)) throw badRequest(`Part ${JSON.stringify(id)} is listed more than once.`, 'part_ids');
    parts.push(part);
  }
  const total = parts.reduce((sum, part) => sum + part.bytes, 0);
  if (total !== record.upload.bytes) {
    throw badRequest(
      `The parts hold ${total} bytes, but the Upload was created for ${record.upload.bytes} bytes.`,
      'part_ids',
      'upload_bytes_mismatch',
    );
  }
  completing.add(record);
  try {
    const md5Hash = createHash('md5');
    const staged = await deps.files.stage(hashing(deps.uploads.concatenate(parts), md5Hash));
    const digest = md5Hash.digest('hex');
    const problem =
      staged.bytes !== record.upload.bytes
        ? badRequest(`Expected ${record.upload.bytes} bytes, got ${staged.bytes}.`, 'part_ids', 'upload_bytes_mismatch')
        : md5 !== undefined && md5.toLowerCase() !== digest
          ? badRequest(`The md5 checksum ${md5} does not match the uploaded bytes (${digest}).`, 'md5', 'md5_mismatch')
          : undefined;
    if (problem) {
      await deps.files.discard(staged);
      throw problem;
    }
    const stored = await deps.files.register(
      staged,
      record.upload.filename,
      record.upload.purpose as FileObject['purpose'],
      nowSeconds(),
      record.expiresAfterSeconds,
    );
    record.upload = { ...record.upload, status: 'completed', file: stored.file };
    await deps.uploads.dropParts(record);
    deps.emit(fileCreatedEvent(stored));
    sendJson(context.res, 200, record.upload);
  } finally {
    completing.delete(record);
  }
}

export async function cancelUpload(context: RouteContext): Promise<void> {
  context.req.resume();
  const record = requireUpload(context);
  requirePending(record);
  record.upload = { ...record.upload, status: 'cancelled' };
  await context.deps.uploads.dropParts(record);
  sendJson(context.res, 200, record.upload);
}
