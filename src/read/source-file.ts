import { createReadStream } from 'node:fs';
import { TransbatchError } from '../errors.js';

/** Big reads: per-chunk overhead dominates on million-row files otherwise. */
export const READ_CHUNK_BYTES = 1 << 20;

/** `cannot read <path>: ENOENT` for a missing, unreadable or non-file input. */
export function cannotRead(path: string, error: unknown): TransbatchError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new TransbatchError('input', `cannot read ${path}: ${code}`, { file: path }, { cause: error });
}

/** Streams a file as UTF-8 text chunks (multi-byte characters never split). */
export async function* readTextChunks(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (error) {
    throw cannotRead(path, error);
  } finally {
    stream.destroy();
  }
}
