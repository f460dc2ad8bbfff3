/** The Files API: multipart upload streamed to disk, list, retrieve, content, delete. */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { FileObject } from 'openai/resources/files';
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
    upload = { staged: deps.files.stage(stream), filename: info.filename || 'upload.jsonl', truncated: () => stream.truncated === true };
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
  await pipeline(createReadStream(context.deps.files.contentPath(stored.file.id)), context.res);
}

export async function deleteFile(context: RouteContext): Promise<void> {
  requireFile(context);
  await context.deps.files.delete(context.id);
  context.deps.emit({ type: 'file.deleted', fileId: context.id });
  sendJson(context.res, 200, { id: context.id, object: 'file', deleted: true });
}
