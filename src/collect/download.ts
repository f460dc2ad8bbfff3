/**
 * Downloads a batch's output or error file into the run dir, streamed, with
 * retries (files.content fails transiently on the real API). Kept on disk:
 * collect reads it from there, and it stays for audit. The body's chunks
 * (~64 KB each) are gathered into 1 MB writes: every fs request is a thread
 * pool round trip that costs the same CPU whatever its size.
 */
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type OpenAI from 'openai';

/** null, undefined and '' all mean "no file" (seen from real providers). */
export function hasFile(id: string | null | undefined): id is string {
  return typeof id === 'string' && id.length > 0;
}

export async function downloadFile(client: OpenAI, fileId: string, target: string, tries = 4): Promise<string> {
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isFile()) return target;
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.part`;
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await client.files.content(fileId);
      if (!response.body) throw new Error(`empty body for file ${fileId}`);
      await writeBody(response.body as WebReadableStream<Uint8Array>, temporary);
      await rename(temporary, target);
      return target;
    } catch (error) {
      await rm(temporary, { force: true });
      const status = (error as { status?: number }).status;
      if (attempt >= tries || (status !== undefined && status < 500 && status !== 429 && status !== 408)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 10_000)));
    }
  }
}

const BLOCK_BYTES = 1024 * 1024;

async function writeBody(body: WebReadableStream<Uint8Array>, path: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    let used = 0;
    for await (const chunk of body) {
      for (let offset = 0; offset < chunk.length; ) {
        const take = Math.min(BLOCK_BYTES - used, chunk.length - offset);
        block.set(chunk.subarray(offset, offset + take), used);
        used += take;
        offset += take;
        if (used === BLOCK_BYTES) {
          await writeAll(handle, block, used);
          used = 0;
        }
      }
    }
    await writeAll(handle, block, used);
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, block: Buffer, length: number): Promise<void> {
  for (let offset = 0; offset < length; ) offset += (await handle.write(block, offset, length - offset)).bytesWritten;
}
