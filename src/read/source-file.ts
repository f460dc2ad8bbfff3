import { StringDecoder } from 'node:string_decoder';
import { readBlocks } from '../block-io.js';
import { TransbatchError } from '../errors.js';

/** Big reads for streams (CSV): per-chunk overhead dominates on million-row files otherwise. */
export const READ_CHUNK_BYTES = 1 << 20;

/** `cannot read <path>: ENOENT` for a missing, unreadable or non-file input. */
export function cannotRead(path: string, error: unknown): TransbatchError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new TransbatchError('input', `cannot read ${path}: ${code}`, { file: path }, { cause: error });
}

/** Streams a file as UTF-8 text chunks (multi-byte characters never split). */
export async function* readTextChunks(path: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  try {
    for await (const block of readBlocks(path)) yield decoder.write(block);
  } catch (error) {
    throw cannotRead(path, error);
  }
  const rest = decoder.end();
  if (rest !== '') yield rest;
}
