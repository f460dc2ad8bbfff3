/**
 * One process per run dir: a lock file holding the owner's pid. A lock left
 * by a killed process (its pid is gone) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransbatchError } from '../errors.js';

export function acquireRunLock(runDir: string): () => void {
  const path = join(runDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new TransbatchError('state', `the run dir ${runDir} is in use by process ${owner}; wait for it to finish or stop it`, {
          file: path,
        });
      }
      rmSync(path, { force: true });
    }
  }
  throw new TransbatchError('state', `cannot lock the run dir ${runDir}`, { file: path });
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
