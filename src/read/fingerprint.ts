import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cannotRead, READ_CHUNK_BYTES } from './source-file.js';

/** Hex sha256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) hash.update(chunk as Buffer);
  } catch (error) {
    throw cannotRead(path, error);
  }
  return hash.digest('hex');
}
