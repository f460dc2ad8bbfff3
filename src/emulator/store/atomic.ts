/** Atomic JSON writes: a crash leaves either the old or the new file, never half of one. */
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}
