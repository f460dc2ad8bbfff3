import { createHash } from 'node:crypto';
import { readBlocks } from '../block-io.js';
import { cannotRead } from './source-file.js';

/** Hex sha256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const block of readBlocks(path)) hash.update(block);
  } catch (error) {
    throw cannotRead(path, error);
  }
  return hash.digest('hex');
}
