/**
 * Uploads a batch input file without holding it in memory. The `openai` SDK
 * reads a whole `ReadStream` (or `fs.openAsBlob`) into memory before it sends
 * `files.create`, so a 190 MB shard would cost ~200 MB of RSS. Files up to
 * `threshold` still go through one `files.create`; bigger ones go through the
 * Uploads API (`uploads.create` → `uploads.parts.create` per part →
 * `uploads.complete`). Each part goes as the SDK's `toStreamingFile` over a
 * generator that reads its range in 1 MB chunks, so a part is never held in
 * memory and fetch sends it as it is read. The chunks cycle through a small ring of
 * buffers (see `ReadRing`) instead of being fresh ones: fresh 1 MB buffers
 * are freed only by a GC, which V8 starts only after ~64 MB of them.
 * Each part is retried on 429, 5xx and connection errors, honouring
 * Retry-After (the range is re-read from disk). The file's md5, computed on
 * another thread meanwhile (`md5OfFile`), goes with `complete`, so the server
 * checks the bytes it assembled against those on disk.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import OpenAI, { AzureOpenAI, toStreamingFile } from 'openai';
import type { FileObject } from 'openai/resources/files';
import { md5OfFile } from './file-md5.js';

/** Files up to this size go through one plain `files.create`. */
export const DEFAULT_UPLOAD_THRESHOLD = 8 * 1024 * 1024;
/** Bytes per read of a part. */
const READ_BYTES = 1024 * 1024;
/**
 * Buffers in the ring. fetch takes a chunk from the body stream, writes it
 * and waits for the socket to drain before it takes the next; the stream
 * meanwhile pulls one chunk ahead (its queue holds one). So when chunk n is
 * read, chunk n - 1 is queued, n - 2 may be on the socket, and n - 3 was
 * sent: three buffers would do, the fourth is margin. Were one overwritten
 * too early, the md5 sent with `uploads.complete` would not match the bytes
 * the server assembled and the upload would fail: never a silent corruption.
 */
const RING_BUFFERS = 4;
/** Bytes per Uploads API part (the API allows up to 64 MB). */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

export interface UploadOptions {
  /** Above this many bytes, use the Uploads API (default 8 MB). */
  threshold?: number;
  /** Bytes per part (default 8 MB, at most 64 MB). */
  partBytes?: number;
  /**
   * Whether the provider has the Uploads API; default: every client except
   * `AzureOpenAI` (Azure's Batch API documents only `files.create`).
   */
  useUploadsApi?: boolean;
  /** Tries per part (default 6). */
  maxTries?: number;
  /** Name sent as the file name (default: the file's base name). */
  filename?: string;
  log?: (message: string) => void;
  /** Between retries; tests shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

export function supportsUploadsApi(client: OpenAI): boolean {
  return !(client instanceof AzureOpenAI);
}

export async function uploadBatchFile(client: OpenAI, path: string, options: UploadOptions = {}): Promise<FileObject> {
  const { size } = await stat(path);
  const threshold = options.threshold ?? DEFAULT_UPLOAD_THRESHOLD;
  const useUploads = options.useUploadsApi ?? supportsUploadsApi(client);
  if (!useUploads || size <= threshold) return client.files.create({ file: createReadStream(path), purpose: 'batch' });
  return uploadInParts(client, path, size, options);
}

async function uploadInParts(client: OpenAI, path: string, size: number, options: UploadOptions): Promise<FileObject> {
  const partBytes = Math.min(Math.max(options.partBytes ?? DEFAULT_PART_BYTES, 1), 64 * 1024 * 1024);
  const filename = options.filename ?? basename(path);
  const md5 = md5OfFile(path);
  // Awaited by complete only: an upload that fails before must not leave its rejection unhandled.
  md5.catch(() => undefined);
  const upload = await client.uploads.create({ bytes: size, filename, mime_type: 'application/jsonl', purpose: 'batch' });
  const partIds: string[] = [];
  // Parts go one after another, and a part's request ends only after the server has read its body: one ring for all.
  const ring = new ReadRing();
  try {
    for (let offset = 0, number = 1; offset < size; offset += partBytes, number += 1) {
      const end = Math.min(offset + partBytes, size);
      const name = `${filename}.part${number}`;
      const part = await withRetries(
        () => {
          // Each try reads the range again.
          const data = toStreamingFile(readRange(path, offset, end, ring), name, { type: 'application/octet-stream' });
          return client.uploads.parts.create(upload.id, { data }, { maxRetries: 0 });
        },
        `part ${number} of ${filename}`,
        options,
      );
      partIds.push(part.id);
    }
  } catch (error) {
    await client.uploads.cancel(upload.id).catch(() => undefined);
    throw error;
  }
  const completed = await client.uploads.complete(upload.id, { part_ids: partIds, md5: await md5 });
  if (completed.status !== 'completed' || !completed.file) {
    throw new Error(`upload ${upload.id} of ${filename} ended ${completed.status} without a file`);
  }
  return completed.file;
}

/** `RING_BUFFERS` read buffers of `READ_BYTES`, handed out in turn (allocated when first needed). */
class ReadRing {
  private readonly buffers: Buffer[] = [];
  private turn = 0;

  constructor(
    private readonly count = RING_BUFFERS,
    private readonly bytes = READ_BYTES,
  ) {}

  next(): Buffer {
    const index = this.turn++ % this.count;
    let buffer = this.buffers[index];
    if (!buffer) {
      buffer = Buffer.allocUnsafe(this.bytes);
      this.buffers[index] = buffer;
    }
    return buffer;
  }
}

/** The bytes of `[start, end)` in 1 MB reads through `ring`. */
async function* readRange(path: string, start: number, end: number, ring: ReadRing): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    for (let position = start; position < end; ) {
      const buffer = ring.next();
      const chunk = buffer.subarray(0, Math.min(buffer.length, end - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) throw new Error(`${path} is shorter than expected (changed during the upload?)`);
      position += bytesRead;
      const bytes = chunk.subarray(0, bytesRead);
      yield bytes;
    }
  } finally {
    await handle.close();
  }
}

async function withRetries<T>(call: () => Promise<T>, what: string, options: UploadOptions): Promise<T> {
  const maxTries = options.maxTries ?? 6;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= maxTries || !isRetryableUploadError(error)) throw error;
      const delayMs = uploadRetryDelayMs(error, attempt);
      options.log?.(`upload of ${what} failed (${describe(error)}); retrying in ${Math.round(delayMs / 1000)}s`);
      await sleep(delayMs);
    }
  }
}

/** 408/409/429/5xx and connection errors (no status). */
export function isRetryableUploadError(error: unknown): boolean {
  if (error instanceof OpenAI.APIUserAbortError) return false;
  const status = (error as { status?: number }).status;
  return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The server's Retry-After (seconds, 0 included) wins; else exponential backoff from 500 ms. */
export function uploadRetryDelayMs(error: unknown, attempt: number): number {
  const headers = (error as { headers?: Headers }).headers;
  const header = headers?.get?.('retry-after');
  const retryAfter = header === null || header === undefined || header.trim() === '' ? Number.NaN : Number(header);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, 60_000);
  return Math.min(500 * 2 ** (attempt - 1), 30_000);
}

function describe(error: unknown): string {
  const status = (error as { status?: number }).status;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  return status ? `${status} ${message}` : message;
}
