/** Parquet in → translate on the emulator → Parquet out, nested chat messages included. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readParquetRecords } from '../../src/read/parquet.js';
import { REPO_ROOT, runCliCapture } from '../helpers/cli.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function parquetRows(path: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  for await (const { record } of readParquetRecords(path)) rows.push(record);
  return rows;
}

it('translates a nested Parquet dataset into Parquet, the same rows as its JSONL output', async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-parquet-run-'));
  const input = join(REPO_ROOT, 'test/fixtures/parquet/chat-mini.parquet');
  writeFileSync(
    join(dir, 'p.yaml'),
    [
      'name: chat-parquet',
      `input: {path: ${JSON.stringify(input)}}`,
      'fields: ["messages[*].content"]',
      'target_languages: [ko]',
      'model: gpt-4o-mini',
      'provider: {kind: local}',
      'batch: {poll_interval: 50ms}',
      'output:',
      '  - {path: "out/chat.{lang}.parquet"}',
      '  - {path: "out/chat.{lang}.jsonl"}',
      '',
    ].join('\n'),
  );
  const result = await runCliCapture(['run', join(dir, 'p.yaml')]);
  expect(result.stderr).not.toMatch(/^error/m);
  expect(result.code, result.stderr).toBe(0);

  const source = await parquetRows(input);
  const translated = await parquetRows(join(dir, 'out/chat.ko.parquet'));
  const viaJsonl = readFileSync(join(dir, 'out/chat.ko.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(translated).toEqual(viaJsonl);
  expect(translated).toHaveLength(source.length);
  // Same shape, other text: every message keeps its role, every content changed.
  translated.forEach((row, index) => {
    type Message = { role: string; content: string | null };
    const before = (source[index] as { messages: Message[] | null }).messages ?? [];
    const after = (row as { messages: Message[] | null }).messages ?? [];
    expect(after.map((m) => m.role)).toEqual(before.map((m) => m.role));
    after.forEach((message, i) => {
      const original = before[i]!.content;
      if (typeof original === 'string' && original.trim() !== '') expect(message.content).not.toBe(original);
      else expect(message.content).toBe(original);
    });
  });
});
