import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parquetMetadata, readOffsetIndex } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { TransbatchError } from '../../src/errors.js';
import { type ParquetReadOptions, readParquetRecords } from '../../src/read/parquet.js';
import type { DataRecord } from '../../src/read/types.js';

// The reader decodes a column a few whole pages at a time when the file has
// offset indexes (hyparquet-writer writes them by default), else a whole column
// chunk. These files come from hyparquet-writer directly, with small pages so
// that small files have many pages, and one big row group.

const dir = mkdtempSync(join(tmpdir(), 'transbatch-parquet-ranges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tempPath = (name: string) => join(dir, `${counter++}-${name}`);

const SCHEMA = [
  { name: 'root', num_children: 4 },
  { name: 'id', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'messages', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'score', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
] as const;

/** Row i: nulls, empty lists, multi-byte text and texts of varying length, so pages end at different rows per column. */
function row(i: number): DataRecord {
  const long = `${i} ${'word '.repeat(i % 37)}안녕 😀`;
  return {
    id: i,
    text: i % 11 === 0 ? null : long,
    messages:
      i % 13 === 0
        ? null
        : i % 7 === 0
          ? []
          : [
              { role: 'user', content: `question ${i} ${'x'.repeat(i % 50)}` },
              { role: 'assistant', content: i % 5 === 0 ? null : `answer ${i} — ${'y'.repeat((i * 7) % 90)}` },
            ],
    score: i % 3 === 0 ? null : i / 4,
  };
}

function writeFile(path: string, rows: readonly DataRecord[], options: { rowGroupSize: number; pageSize: number; offsetIndex: boolean }) {
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({ writer, schema: SCHEMA.map((element) => ({ ...element })) });
  const columnData = ['id', 'text', 'messages', 'score'].map((name) => ({
    name,
    data: rows.map((r) => (name === 'id' ? BigInt(r[name] as number) : r[name])),
    offsetIndex: options.offsetIndex,
  }));
  parquet.write({ columnData, rowGroupSize: options.rowGroupSize, pageSize: options.pageSize });
  parquet.finish();
  writeFileSync(path, new Uint8Array(writer.getBytes()));
}

async function readAll(path: string, options?: ParquetReadOptions): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  let expected = 0;
  for await (const { index, line, record } of readParquetRecords(path, options)) {
    if (index !== expected || line !== expected + 1) throw new Error(`row ${expected}: index ${index}, line ${line}`);
    expected++;
    out.push(record);
  }
  return out;
}

describe('Parquet reader: page ranges', () => {
  const rows = Array.from({ length: 3_000 }, (_, i) => row(i));

  it('reads one big row group range by range: every value, in order, flat and nested columns', async () => {
    const path = tempPath('pages.parquet');
    writeFile(path, rows, { rowGroupSize: 3_000, pageSize: 4_096, offsetIndex: true });
    const bytes = new Uint8Array(readFileSync(path)).buffer;
    const metadata = parquetMetadata(bytes);
    expect(metadata.row_groups).toHaveLength(1);
    // Many pages in each leaf column, with boundaries at different rows.
    const firstRows = metadata.row_groups[0]!.columns.map((chunk) => {
      const start = Number(chunk.offset_index_offset);
      const index = readOffsetIndex({ view: new DataView(bytes.slice(start, start + chunk.offset_index_length!)), offset: 0 });
      return index.page_locations.map((page) => Number(page.first_row_index));
    });
    expect(Math.min(...firstRows.map((pages) => pages.length))).toBeGreaterThan(2);
    expect(new Set(firstRows.map((pages) => pages.join())).size).toBeGreaterThan(1);

    for (const rangeBytes of [1, 10_000, 100_000]) expect(await readAll(path, { rangeBytes })).toEqual(rows);
    expect(await readAll(path)).toEqual(rows); // default: 1 MiB, the whole group here
  });

  it('reads a file without offset indexes a column chunk at a time, and several row groups', async () => {
    const path = tempPath('no-index.parquet');
    writeFile(path, rows, { rowGroupSize: 700, pageSize: 4_096, offsetIndex: false });
    const metadata = parquetMetadata(new Uint8Array(readFileSync(path)).buffer);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([700, 700, 700, 700, 200]);
    expect(metadata.row_groups[0]!.columns.every((chunk) => !chunk.offset_index_offset)).toBe(true);
    expect(await readAll(path, { rangeBytes: 1 })).toEqual(rows);
  });

  it('holds a few pages of a 20k-row group, not the group', async () => {
    const path = tempPath('big-group.parquet');
    const filler = 'The quick brown fox jumps over the lazy dog. '.repeat(40); // ~1.8 KB: the group holds ~36 MB of text
    const big = Array.from({ length: 20_000 }, (_, i) => ({ id: i, text: `${i} ${filler}`, messages: null, score: null }));
    writeFile(path, big, { rowGroupSize: 20_000, pageSize: 1 << 20, offsetIndex: true });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    for await (const { record } of readParquetRecords(path)) {
      if (record['text'] !== `${n} ${filler}`) throw new Error(`row ${n} differs`);
      n++;
      if (n % 1_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    expect(n).toBe(20_000);
    console.log(`20k-row group (~36 MB of text): peak retained heap while reading ${(peak / 2 ** 20).toFixed(1)} MiB`);
    expect(peak).toBeLessThan(12 * 1024 * 1024);
  });

  it('names the rows of a range that cannot be decoded', async () => {
    const path = tempPath('corrupt.parquet');
    writeFile(path, rows, { rowGroupSize: 3_000, pageSize: 4_096, offsetIndex: true });
    const bytes = Buffer.from(readFileSync(path));
    const metadata = parquetMetadata(new Uint8Array(bytes).buffer);
    // Scribble over the text column's pages after its first few.
    const text = metadata.row_groups[0]!.columns[1]!.meta_data!;
    const start = Number(text.data_page_offset) + 20_000;
    for (let i = start; i < Number(text.data_page_offset) + Number(text.total_compressed_size); i++) bytes[i] = (i * 7) & 0xff;
    writeFileSync(path, bytes);
    let error: unknown;
    let read = 0;
    try {
      for await (const _ of readParquetRecords(path, { rangeBytes: 1 })) read++;
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TransbatchError);
    expect(error).toMatchObject({ code: 'input', context: { file: path } });
    expect((error as TransbatchError).message).toMatch(/cannot decode Parquet rows \d+-\d+/);
    expect(read).toBeGreaterThan(0); // the rows before the damaged range came out
    expect((error as TransbatchError).context.line).toBe(read + 1);
  });
});
