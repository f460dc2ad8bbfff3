import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { TransbatchError } from '../../src/errors.js';
import { readParquetRecords } from '../../src/read/parquet.js';
import type { DataRecord } from '../../src/read/types.js';
import { openParquetWriter, type ParquetWriterLimits } from '../../src/write/parquet.js';

const dir = mkdtempSync(join(tmpdir(), 'transbatch-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tempPath = (name: string) => join(dir, `${counter++}-${name}`);
const fixture = join(import.meta.dirname, '../fixtures/parquet/chat-mini.parquet');

async function writeAll(path: string, rows: readonly DataRecord[], columns?: readonly string[], limits?: ParquetWriterLimits) {
  const writer = openParquetWriter(path, columns ? { columns } : {}, limits);
  for (const row of rows) await writer.write(row);
  await writer.close();
}

async function readAll(path: string): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for await (const { record } of readParquetRecords(path)) out.push(record);
  return out;
}

async function inputError(path: string): Promise<TransbatchError> {
  try {
    for await (const _ of readParquetRecords(path)) {
      // drain
    }
  } catch (error) {
    if (error instanceof TransbatchError) return error;
    throw error;
  }
  throw new Error('expected a TransbatchError');
}

describe('Parquet round trip', () => {
  it('keeps flat rows: strings, empty strings, nulls, numbers, booleans', async () => {
    const rows = [
      { id: 1, instruction: 'Give three tips.', input: '', output: 'Eat, sleep, move.', score: 0.5, ok: true },
      { id: 2, instruction: '안녕하세요 😀 emoji 👩‍👩‍👧', input: null, output: 'Ünïcödé — “quotes”', score: 2, ok: false },
      { id: 3, instruction: '', input: 'line\nbreak\ttab', output: null, score: null, ok: null },
    ];
    const path = tempPath('flat.parquet');
    await writeAll(path, rows);
    expect(await readAll(path)).toEqual(rows);
  });

  it('keeps nested chat messages, structs and lists of strings', async () => {
    const rows = [
      {
        id: 'a',
        messages: [
          { role: 'system', content: 'You are helpful.' },
          { role: 'user', content: '김치 만드는 법을 알려 주세요 🥬' },
          { role: 'assistant', content: '' },
        ],
        meta: { title: 'Kimchi', source: { name: 'web', rank: 3 } },
        tags: ['food', 'korean'],
      },
      { id: 'b', messages: [], meta: { title: null, source: null }, tags: [] },
      { id: 'c', messages: null, meta: null, tags: null },
      { id: 'd', messages: [{ role: 'user', content: null }], meta: { title: 't', source: { name: null, rank: 1 } }, tags: [null, 'x'] },
    ];
    const path = tempPath('nested.parquet');
    await writeAll(path, rows);
    expect(await readAll(path)).toEqual(rows);
  });

  it('follows options.columns order and fills absent columns with null', async () => {
    const path = tempPath('columns.parquet');
    await writeAll(path, [{ b: 'x', a: 'y' }, { a: 'z' }], ['a', 'b', 'c']);
    const records = await readAll(path);
    expect(records).toEqual([
      { a: 'y', b: 'x', c: null },
      { a: 'z', b: null, c: null },
    ]);
    expect(Object.keys(records[0]!)).toEqual(['a', 'b', 'c']);
  });

  it('stores columns of conflicting shapes as JSON and reads them back as values', async () => {
    const rows = [
      { id: 1, extra: { k: 1 } },
      { id: 2, extra: 'text' },
      { id: 3, extra: [1, 'two'] },
    ];
    const path = tempPath('json.parquet');
    await writeAll(path, rows);
    expect(await readAll(path)).toEqual(rows);
  });

  it('turns INT64 into numbers when exact, else decimal strings, and dates into ISO strings', async () => {
    const path = tempPath('int64.parquet');
    await writeAll(path, [
      { n: 2n ** 60n, t: new Date('2024-05-06T07:08:09.010Z') },
      { n: 42n, t: null },
    ]);
    expect(await readAll(path)).toEqual([
      { n: '1152921504606846976', t: '2024-05-06T07:08:09.010Z' },
      { n: 42, t: null },
    ]);
  });

  it('writes a valid empty file when no row was written', async () => {
    const path = tempPath('empty.parquet');
    await writeAll(path, [], ['instruction', 'output']);
    expect(await readAll(path)).toEqual([]);
  });
});

describe('Parquet writer files', () => {
  it('writes to <path>.tmp-<pid> and renames it on close', async () => {
    const path = tempPath('atomic.parquet');
    const writer = openParquetWriter(path, {}, { rowGroupRows: 2 });
    for (let i = 0; i < 5; i++) await writer.write({ i });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(true);
    await writer.close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
    expect(parquetMetadata(readFileSync(path)).row_groups.map((g) => Number(g.num_rows))).toEqual([2, 2, 1]);
  });

  it('creates missing parent folders and reports an unwritable path as a config error', async () => {
    const path = join(tempPath('deep'), 'a', 'b', 'out.parquet');
    await writeAll(path, [{ x: 'y' }]);
    expect(await readAll(path)).toEqual([{ x: 'y' }]);

    const blocked = join(path, 'under-a-file.parquet');
    const writer = openParquetWriter(blocked, {});
    await writer.write({ x: 'y' });
    const error = await writer.close().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'config', context: { file: blocked } });
  });

  it('abort() removes the temporary file and leaves no output', async () => {
    const path = tempPath('aborted.parquet');
    const writer = openParquetWriter(path, {}, { rowGroupRows: 2 });
    for (let i = 0; i < 5; i++) await writer.write({ i });
    await writer.abort();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).some((name) => name.startsWith(path.slice(dir.length + 1)))).toBe(false);
  });

  it('rejects a later row that does not fit the inferred schema', async () => {
    const path = tempPath('mismatch.parquet');
    const writer = openParquetWriter(path, {}, { rowGroupRows: 2 });
    await writer.write({ id: 1, text: 'a' });
    await writer.write({ id: 2, text: 'b' });
    await writer.write({ id: 3, text: 7 });
    const error = await writer.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransbatchError);
    expect(error).toMatchObject({ code: 'input', context: { file: path } });
    expect((error as Error).message).toMatch(/row 3: text: expected a string, got number 7/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
  });

  it('rejects a key first seen after the first row group', async () => {
    const path = tempPath('newkey.parquet');
    const writer = openParquetWriter(path, {}, { rowGroupRows: 1 });
    await writer.write({ id: 1 });
    const error = await writer.write({ id: 2, late: 'x' }).catch((e: unknown) => e);
    await writer.abort();
    expect(existsSync(path)).toBe(false);
    expect(error).toBeInstanceOf(TransbatchError);
    expect((error as Error).message).toMatch(/column "late"/);
  });
});

describe('Parquet reader', () => {
  it('reads the committed chat fixture (hyparquet-writer, two row groups)', async () => {
    const rows = [];
    for await (const row of readParquetRecords(fixture)) rows.push(row);
    expect(rows).toHaveLength(13);
    expect(rows.map((r) => r.line)).toEqual(rows.map((r) => r.index + 1));
    expect(rows[0]!.record).toEqual({
      id: 1,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'The capital of France is Paris.' },
      ],
      tags: ['chat', 'general'],
      meta: { source: 'synthetic', turns: 2 },
    });
    expect(rows[4]!.record['messages']).toContainEqual({ role: 'assistant', content: 'Practice a little every day — 매일 조금씩! 😀' });
    expect(rows[12]!.record).toEqual({ id: 13, messages: null, tags: null, meta: null });
  });

  it('reads 25k rows in three row groups, in order, holding about one group at a time', async () => {
    const path = tempPath('big.parquet');
    const filler = 'The quick brown fox jumps over the lazy dog. '.repeat(40); // ~1.8 KB
    const writer = openParquetWriter(path, {});
    for (let i = 0; i < 25_000; i++) await writer.write({ id: i, text: `${i} ${filler}` });
    await writer.close();
    expect(parquetMetadata(readFileSync(path)).row_groups.map((g) => Number(g.num_rows))).toEqual([10_000, 10_000, 5_000]);

    // --expose-gc at run time, so retained memory can be sampled exactly.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let expected = 0;
    for await (const { index, line, record } of readParquetRecords(path)) {
      expect(index).toBe(expected);
      expect(line).toBe(expected + 1);
      if (record['id'] !== expected || record['text'] !== `${expected} ${filler}`) throw new Error(`row ${expected} differs`);
      expected++;
      if (expected % 2_500 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    expect(expected).toBe(25_000);
    console.log(
      `25k rows (${readFileSync(path).length} bytes on disk): peak retained heap while reading ${(peak / 2 ** 20).toFixed(1)} MiB`,
    );
    // All 25k texts hold ~45 MB as (one byte per char) JS strings; one 10k-row
    // group ~18 MB. Allow one group plus decoding overhead, well under the whole.
    expect(peak).toBeLessThan(32 * 1024 * 1024);
  });

  it('fails with an input error naming the file for a non-Parquet file', async () => {
    const path = tempPath('not.parquet');
    writeFileSync(path, 'id,text\n1,hello\n');
    const error = await inputError(path);
    expect(error.code).toBe('input');
    expect(error.context.file).toBe(path);
    expect(error.message).toMatch(/not a readable Parquet file/);
  });

  it('fails with an input error for a truncated Parquet file', async () => {
    const path = tempPath('truncated.parquet');
    const bytes = readFileSync(fixture);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await inputError(path);
    expect(error).toMatchObject({ code: 'input', context: { file: path } });
  });

  it('fails with an input error for corrupt column data, naming the rows', async () => {
    const path = tempPath('corrupt.parquet');
    const bytes = Buffer.from(readFileSync(fixture));
    // Scribble over the data pages but keep the header magic and the footer intact.
    const footer = bytes.readUInt32LE(bytes.length - 8) + 8;
    for (let i = 4; i < bytes.length - footer; i++) bytes[i] = (i * 7) & 0xff;
    writeFileSync(path, bytes);
    const error = await inputError(path);
    expect(error).toMatchObject({ code: 'input', context: { file: path, line: 1 } });
    expect(error.message).toMatch(/cannot decode Parquet rows 1-8/);
  });

  it('fails with an input error for a missing file', async () => {
    const path = tempPath('missing.parquet');
    const error = await inputError(path);
    expect(error).toMatchObject({ code: 'input', context: { file: path } });
    expect(error.message).toMatch(/ENOENT/);
  });
});
