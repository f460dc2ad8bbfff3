import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransbatchError } from '../../src/errors.js';

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A temp folder for one test file; `write` puts a file in it and returns its path. */
export function tempFolder(prefix: string): {
  dir: string;
  write: (name: string, content: string | Buffer) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs the iterable to the end and returns the TransbatchError it throws. */
export async function inputError(items: AsyncIterable<unknown>): Promise<TransbatchError> {
  try {
    for await (const _ of items) {
      // drain
    }
  } catch (error) {
    if (error instanceof TransbatchError) return error;
    throw error;
  }
  throw new Error('expected a TransbatchError, got none');
}
