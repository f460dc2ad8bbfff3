import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { md5OfFile } from '../../src/submit/file-md5.js';

describe('md5OfFile', () => {
  it('hashes the whole file, across read buffers, on another thread', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tb-md5-'));
    try {
      const bytes = Buffer.alloc(2.5 * 1024 * 1024 + 7);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251;
      const path = join(dir, 'f.jsonl');
      await writeFile(path, bytes);
      expect(await md5OfFile(path)).toBe(createHash('md5').update(bytes).digest('hex'));
      await writeFile(path, '');
      expect(await md5OfFile(path)).toBe('d41d8cd98f00b204e9800998ecf8427e');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects when the file cannot be read', async () => {
    await expect(md5OfFile(join(tmpdir(), 'tb-md5-missing', 'nope.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
