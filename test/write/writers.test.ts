import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataFormat } from '../../src/config/schema.js';
import { readCsvRecords } from '../../src/read/csv.js';
import { readRecords } from '../../src/read/index.js';
import { openRecordWriter } from '../../src/write/index.js';
import { collect } from '../read/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = [
  { id: 1, text: 'héllo, "world"', tags: ['a', 'b'], meta: { ok: true }, none: null },
  { id: 2, text: 'line\r\nbreak', tags: [], meta: {}, none: null },
];

describe('openRecordWriter', () => {
  it('writes JSONL, one JSON.stringify per line', async () => {
    const path = join(dir, 'out.jsonl');
    const writer = openRecordWriter(path, 'jsonl');
    for (const row of ROWS) await writer.write(row);
    await writer.close();
    expect(readFileSync(path, 'utf8')).toBe(ROWS.map((row) => JSON.stringify(row) + '\n').join(''));
  });

  it('writes a JSON array, one element per line', async () => {
    const path = join(dir, 'out.json');
    const writer = openRecordWriter(path, 'json');
    for (const row of ROWS) await writer.write(row);
    await writer.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(`[\n${JSON.stringify(ROWS[0])},\n${JSON.stringify(ROWS[1])}\n]\n`);
    expect(JSON.parse(text)).toEqual(ROWS);
  });

  it('writes an empty JSON array', async () => {
    const path = join(dir, 'empty.json');
    const writer = openRecordWriter(path, 'json');
    await writer.close();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([]);
  });

  it('writes CSV cells: JSON for objects, empty for null, quoted only when needed', async () => {
    const path = join(dir, 'out.csv');
    const writer = openRecordWriter(path, 'csv');
    for (const row of ROWS) await writer.write(row);
    await writer.close();
    expect(readFileSync(path, 'utf8')).toBe(
      'id,text,tags,meta,none\n' + '1,"héllo, ""world""","[""a"",""b""]","{""ok"":true}",\n' + '2,"line\r\nbreak",[],{},\n',
    );
  });

  it('takes the CSV header from columns, in that order, missing values empty', async () => {
    const path = join(dir, 'columns.csv');
    const writer = openRecordWriter(path, 'csv', { columns: ['b', 'a.b', 'a'] });
    await writer.write({ a: 'x', 'a.b': 'dotted', b: false });
    await writer.write({ a: 'y' });
    await writer.close();
    expect(readFileSync(path, 'utf8')).toBe('b,a.b,a\nfalse,dotted,x\n,,y\n');
  });

  it('writes only the header for an empty CSV with columns, nothing without', async () => {
    const withColumns = join(dir, 'empty-columns.csv');
    const writer = openRecordWriter(withColumns, 'csv', { columns: ['a', 'b'] });
    await writer.close();
    expect(readFileSync(withColumns, 'utf8')).toBe('a,b\n');
    const bare = join(dir, 'empty-bare.csv');
    await openRecordWriter(bare, 'csv').close();
    expect(readFileSync(bare, 'utf8')).toBe('');
  });

  it('refuses a CSV row with a field that is not a column', async () => {
    const path = join(dir, 'extra.csv');
    const writer = openRecordWriter(path, 'csv');
    await writer.write({ a: '1' });
    await expect(writer.write({ a: '2', b: '3' })).rejects.toMatchObject({ code: 'input', context: { file: path, key: 'b' } });
    await writer.abort();
    expect(existsSync(path)).toBe(false);
  });

  it.each(['csv', 'jsonl', 'json'] as const)('%s: nothing at the path until close, parent folders created', async (format: DataFormat) => {
    const folder = join(dir, `atomic-${format}`, 'nested');
    const path = join(folder, `out.${format}`);
    const writer = openRecordWriter(path, format);
    await writer.write({ a: '1' });
    expect(existsSync(path)).toBe(false);
    await writer.close();
    expect(readdirSync(folder)).toEqual([`out.${format}`]);
    expect((await collect(readRecords(path, format))).map((row) => row.record)).toEqual([{ a: '1' }]);
  });

  it.each(['csv', 'jsonl', 'json'] as const)('%s: abort leaves the previous file and no temp file', async (format: DataFormat) => {
    const folder = join(dir, `abort-${format}`);
    const path = join(folder, `out.${format}`);
    const writer = openRecordWriter(path, format);
    await writer.write({ a: '1' });
    writeFileSync(path, 'previous');
    await writer.abort();
    expect(readdirSync(folder)).toEqual([`out.${format}`]);
    expect(readFileSync(path, 'utf8')).toBe('previous');
  });

  it('handles backpressure on large outputs', async () => {
    const path = join(dir, 'big.jsonl');
    const writer = openRecordWriter(path, 'jsonl');
    const text = 'x'.repeat(1000);
    for (let i = 0; i < 20_000; i++) await writer.write({ i, text });
    await writer.close();
    const rows = await collect(readRecords(path, 'jsonl'));
    expect(rows.length).toBe(20_000);
    expect(rows[19_999]!.record).toEqual({ i: 19_999, text });
  });

  it('round-trips many CSV rows through the reader', async () => {
    const path = join(dir, 'many.csv');
    const writer = openRecordWriter(path, 'csv', { columns: ['i', 'text'] });
    for (let i = 0; i < 20_000; i++) await writer.write({ i: String(i), text: i % 2 ? `a,"b"\r\nc ${i}` : `plain ${i}` });
    await writer.close();
    const rows = await collect(readCsvRecords(path));
    expect(rows.length).toBe(20_000);
    expect(rows[19_999]!.record).toEqual({ i: '19999', text: 'a,"b"\r\nc 19999' });
  });
});
