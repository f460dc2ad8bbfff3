import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransbatchError } from '../../src/errors.js';
import { requestText } from '../../src/state/run-state.js';
import { ShardTexts, type StoredText } from '../../src/state/shard-texts.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Shard files whose lines hold the given texts; returns where each text's literal is. */
function shardFiles(shards: Record<number, string[]>) {
  const dir = mkdtempSync(join(tmpdir(), 'tb-texts-'));
  dirs.push(dir);
  const paths = new Map<number, string>();
  const rows = new Map<string, StoredText>();
  for (const [number, texts] of Object.entries(shards)) {
    let file = '';
    for (const text of texts) {
      const before = `{"custom_id":"x","body":{"messages":[{"role":"user","content":`;
      const literal = JSON.stringify(text);
      const at = Buffer.byteLength(file + before);
      rows.set(text, { text: '', text_shard: Number(number), text_at: at, text_bytes: Buffer.byteLength(literal) });
      file += `${before}${literal}}]}}\n`;
    }
    const path = join(dir, `shard-${number}.jsonl`);
    writeFileSync(path, file);
    paths.set(Number(number), path);
  }
  return { dir, paths, row: (text: string): StoredText => ({ ...rows.get(text)! }) };
}

describe('ShardTexts (request texts read back from the shard lines)', () => {
  it('reads each row its own text: neighbours in one read, other shards and stored texts as they are', () => {
    const { paths, row } = shardFiles({ 1: ['one', 'two «é» "q"\n', 'three ⟦0⟧', 'four'], 2: ['five 😀'] });
    const texts = new ShardTexts((number) => paths.get(number));
    const read = vi.spyOn(texts as unknown as { read: (shard: number, at: number, length: number) => Buffer }, 'read');
    try {
      const rows = [
        row('one'),
        row('two «é» "q"\n'),
        row('three ⟦0⟧'),
        { text: 'stored', text_shard: null, text_at: null, text_bytes: null },
        row('five 😀'),
        row('four'),
      ];
      texts.attach(rows);
      expect(rows.map((r) => requestText(r.text))).toEqual(['one', 'two «é» "q"\n', 'three ⟦0⟧', 'stored', 'five 😀', 'four']);
      // The first three in one read; then shard 2's row, then shard 1's last row on its own.
      expect(read.mock.calls.map(([shard]) => shard)).toEqual([1, 2, 1]);
    } finally {
      texts.close();
    }
  });

  it('rows out of order are read one by one', () => {
    const { paths, row } = shardFiles({ 1: ['a', 'b', 'c'] });
    const texts = new ShardTexts((number) => paths.get(number));
    try {
      const rows = texts.attach([row('c'), row('a'), row('b')]);
      expect(rows.map((r) => requestText(r.text))).toEqual(['c', 'a', 'b']);
    } finally {
      texts.close();
    }
  });

  it('a missing or cut shard file is a state error naming the file, not a wrong text', () => {
    const { paths, row } = shardFiles({ 1: ['a', 'b'] });
    const texts = new ShardTexts((number) => paths.get(number));
    try {
      const far = { ...row('b'), text_at: 10_000 };
      expect(() => texts.attach([far])).toThrow(TransbatchError);
      expect(() => texts.attach([far])).toThrow(/shard-1\.jsonl ends before byte 10003: the shard files hold the texts/);
      rmSync(paths.get(1)!);
      const fresh = new ShardTexts((number) => paths.get(number));
      expect(() => fresh.attach([row('a')])).toThrow(/cannot read .*shard-1\.jsonl \(ENOENT\)/);
      expect(() => fresh.attach([{ ...row('a'), text_shard: 9 }])).toThrow(/texts in shard 9, which it does not list/);
    } finally {
      texts.close();
    }
  });
});
