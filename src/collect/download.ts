/**
 * Downloads a batch's output or error file into the run dir, streamed, with
 * retries (files.content fails transiently on the real API). Kept on disk:
 * collect reads it from there, and it stays for audit.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(temporary));
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
