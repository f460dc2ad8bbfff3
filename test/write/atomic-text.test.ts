import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AtomicFile } from '../../src/write/atomic-file.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('writes buffered texts byte for byte: small, multi-byte, and larger than the buffer, in order', async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-atomic-'));
  const path = join(dir, 'out.txt');
  const file = new AtomicFile(path);
  const texts: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const text =
      i % 997 === 0
        ? `${'큰 텍스트 🎉 '.repeat(4000)}\n` // ~40k UTF-16 units: bigger than the buffer
        : `${i}: héllo, 世界 ${'x'.repeat(i % 50)} 👋\n`;
    texts.push(text);
    await file.writeText(text);
  }
  expect(() => readFileSync(path)).toThrow(); // nothing at `path` before close
  await file.close();
  expect(readFileSync(path, 'utf8')).toBe(texts.join(''));
});
