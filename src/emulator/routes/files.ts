/** The Files API: multipart upload streamed to disk, list, retrieve, content, delete. */
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { FileObject } from 'openai/resources/files';
import { BLOCK_BYTES } from '../../block-io.js';
import { badRequest, notFound } from '../http/errors.js';
import { nowSeconds, sendJson } from '../http/io.js';
import type { StagedFile, StoredFile } from '../store/file-store.js';
import type { EmulatorEvent } from '../types.js';
import type { RouteContext } from './context.js';

const PURPOSES = new Set(['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals']);
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** What tests and rehearsals see when a file lands, by `POST /v1/files` or a completed upload alike. */
export function fileCreatedEvent(stored: StoredFile): EmulatorEvent {
  return { type: 'file.created', fileId: stored.file.id, bytes: stored.file.bytes, sha256: stored.sha256, purpose: stored.file.purpose };
}

function requireFile(context: RouteContext): StoredFile {
  const stored = context.deps.files.get(context.id);
  if (!stored) throw notFound(`No such File object: ${context.id}`);
  return stored;
}

export async function createFile(context: RouteContext): Promise<void> {
  const { req, res, deps } = context;
  if (!(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) throw badRequest('Expected a multipart/form-data body.');
  const fields = new Map<string, string>();
  let upload: { staged: Promise<StagedFile>; filename: string; truncated: () => boolean } | undefined;
  const parser = busboy({ headers: req.headers, limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
  parser.on('field', (name, value) => fields.set(name, value));
  parser.on('file', (name, stream, info) => {
    if (name !== 'file' || upload) {
      stream.resume();
      return;
    }
    const staged = deps.files.stage(stream);
    // Awaited once the body is read; if the client aborts first, the request fails and this rejection must not go unhandled.
    staged.catch(() => undefined);
    upload = { staged, filename: info.filename || 'upload.jsonl', truncated: () => stream.truncated === true };
  });
  await pipeline(req, parser);
  if (!upload) throw badRequest("Missing required parameter: 'file'.", 'file');
  const staged = await upload.staged;
  const purpose = fields.get('purpose');
  const problem =
    purpose === undefined
      ? badRequest("Missing required parameter: 'purpose'.", 'purpose')
      : !PURPOSES.has(purpose)
        ? badRequest(`Invalid value for 'purpose': ${JSON.stringify(purpose)}.`, 'purpose')
        : upload.truncated()
          ? badRequest(`File exceeds the ${MAX_UPLOAD_BYTES} byte limit.`, 'file')
          : undefined;
  if (problem) {
    await deps.files.discard(staged);
    throw problem;
  }
  const expiresSeconds = Number(fields.get('expires_after[seconds]') ?? Number.NaN);
  const stored = await deps.files.register(
    staged,
    upload.filename,
    purpose as FileObject['purpose'],
    nowSeconds(),
    Number.isInteger(expiresSeconds) && expiresSeconds > 0 ? expiresSeconds : undefined,
  );
  deps.emit(fileCreatedEvent(stored));
  sendJson(res, 200, stored.file);
}

export async function listFiles(context: RouteContext): Promise<void> {
  const { url, deps, res } = context;
  const purpose = url.searchParams.get('purpose') ?? undefined;
  const limit = Number(url.searchParams.get('limit') ?? 10_000);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw badRequest('limit must be an integer between 1 and 10000.', 'limit');
  let all = deps.files.list(purpose);
  if (url.searchParams.get('order') === 'asc') all = all.reverse();
  const after = url.searchParams.get('after');
  const start = after ? all.findIndex((file) => file.id === after) + 1 : 0;
  const data = after && start === 0 ? [] : all.slice(start, start + limit);
  sendJson(res, 200, {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < all.length,
  });
}

export async function retrieveFile(context: RouteContext): Promise<void> {
  sendJson(context.res, 200, requireFile(context).file);
}

export async function fileContent(context: RouteContext): Promise<void> {
  const stored = requireFile(context);
  context.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stored.file.bytes });
  await sendFileBody(context.res, context.deps.files.contentPath(stored.file.id));
}

export async function deleteFile(context: RouteContext): Promise<void> {
  requireFile(context);
  await context.deps.files.delete(context.id);
  context.deps.emit({ type: 'file.deleted', fileId: context.id });
  sendJson(context.res, 200, { id: context.id, object: 'file', deleted: true });
}

/**
 * Sends a file in 512 KB writes from two reused buffers: a buffer is refilled
 * only once the socket has taken its previous write (its callback), so at most
 * 1 MB is in flight and no per-chunk buffer is left for the GC.
 */
async function sendFileBody(res: ServerResponse, path: string): Promise<void> {
  const handle = await open(path, 'r');
  const closed = new Promise<never>((_, reject) => {
    res.once('close', () => {
      if (!res.writableFinished) reject(new Error('connection closed while sending a file'));
    });
  });
  closed.catch(() => undefined);
  try {
    let [buffer, other] = [Buffer.allocUnsafe(BLOCK_BYTES), Buffer.allocUnsafe(BLOCK_BYTES)];
    /** The write of `buffer`'s previous content, and of `other`'s. */
    let [sent, otherSent] = [Promise.resolve(), Promise.resolve()];
    for (;;) {
      await Promise.race([sent, closed]);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      sent = new Promise<void>((resolve, reject) => {
        res.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
      sent.catch(() => undefined);
      [buffer, other, sent, otherSent] = [other, buffer, otherSent, sent];
    }
    await Promise.race([Promise.all([sent, otherSent]), closed]);
    await Promise.race([new Promise<void>((resolve) => res.end(resolve)), closed]);
  } finally {
    await handle.close();
  }
}
