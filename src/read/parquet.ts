import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { AsyncBuffer, ColumnChunk, Compressors, DecodedArray, FileMetaData, ParquetParsers, RowGroup, SchemaTree } from 'hyparquet';
import { parquetMetadataAsync, parquetScan, parquetSchema, readOffsetIndex } from 'hyparquet';
import { TransbatchError } from '../errors.js';
import { PageArena } from './parquet-arena.js';
import { TextRange } from './parquet-text.js';
import { cannotRead } from './source-file.js';
import type { DataRecord, SourceRecord } from './types.js';

function isoDate(date: Date, dateOnly: boolean): string | null {
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  return dateOnly ? iso.slice(0, 10) : iso;
}

/** Dates and timestamps come out as ISO strings, so records stay JSON-shaped. */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis) => isoDate(new Date(Number(millis)), false),
  timestampFromMicroseconds: (micros) => isoDate(new Date(Number(micros / 1000n)), false),
  timestampFromNanoseconds: (nanos) => isoDate(new Date(Number(nanos / 1_000_000n)), false),
  dateFromDays: (days) => isoDate(new Date(days * 86_400_000), true),
};

/**
 * Reads byte ranges from an open file on demand: hyparquet asks for the footer,
 * then one row group's column chunks at a time, never the whole file.
 */
function fileAsyncBuffer(handle: FileHandle, byteLength: number): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? byteLength, byteLength);
      const length = Math.max(0, stop - start);
      // allocUnsafeSlow: an ArrayBuffer of its own, not a slice of Node's shared pool.
      const buffer = Buffer.allocUnsafeSlow(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      // A full read is the buffer's own ArrayBuffer (allocUnsafeSlow: offset 0, exact length): no copy.
      if (done === length && buffer.byteOffset === 0 && buffer.buffer.byteLength === length) return buffer.buffer as ArrayBuffer;
      return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + done) as ArrayBuffer;
    },
  };
}

/** BigInt → number when exact, else its decimal string; typed arrays → arrays; bytes → base64. */
function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const plain = toPlain(item);
      if (plain !== item) {
        copy ??= value.slice();
        copy[i] = plain;
      }
    }
    return copy ?? value;
  }
  if (value instanceof Date) return isoDate(value, false);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, toPlain);
  if (value instanceof Map) return toPlainObject(Object.fromEntries(value));
  return toPlainObject(value as Record<string, unknown>);
}

function toPlainObject(record: Record<string, unknown>): DataRecord {
  for (const key of Object.keys(record)) {
    const item = record[key];
    const plain = toPlain(item);
    if (plain !== item) record[key] = plain;
  }
  return record;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readMetadata(path: string, file: AsyncBuffer): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(file);
  } catch (error) {
    throw new TransbatchError('input', `not a readable Parquet file: ${describe(error)}`, { file: path }, { cause: error });
  }
}

/**
 * Uncompressed bytes of one column decoded per read: a column chunk whose
 * pages are listed in an offset index is read a few whole pages at a time, so
 * memory holds about this much of each column whatever the row group size.
 * Pages are never split, so none is decoded twice.
 */
const RANGE_BYTES = 1 << 20;

export interface ParquetReadOptions {
  /** Uncompressed bytes of a column to decode per read (default 1 MiB; tests lower it to get many ranges from small files). */
  rangeBytes?: number;
}

/** A column's row ranges within one row group, absolute row numbers, in order, covering the group. */
type Ranges = [start: number, end: number][];

/**
 * Row ranges for one top-level column of a row group: page-aligned runs of
 * about RANGE_BYTES (uncompressed, estimated from each page's compressed size
 * and the chunk's compression ratio) from the offset index of its largest leaf chunk, else
 * (no offset index, or an unreadable one) the whole group.
 */
async function columnRanges(
  file: AsyncBuffer,
  chunks: ColumnChunk[],
  groupStart: number,
  groupRows: number,
  rangeBytes: number,
): Promise<Ranges> {
  const whole: Ranges = [[groupStart, groupStart + groupRows]];
  let largest: ColumnChunk | undefined;
  for (const chunk of chunks) {
    if (!largest || (chunk.meta_data?.total_compressed_size ?? 0n) > (largest.meta_data?.total_compressed_size ?? 0n)) largest = chunk;
  }
  if (!largest?.offset_index_offset || !largest.offset_index_length) return whole;
  let pages: { first_row_index: bigint; compressed_page_size: number }[];
  try {
    const start = Number(largest.offset_index_offset);
    const bytes = await file.slice(start, start + largest.offset_index_length);
    pages = readOffsetIndex({ view: new DataView(bytes), offset: 0 }).page_locations;
  } catch {
    return whole; // the data pages say what is wrong, if anything
  }
  const meta = largest.meta_data;
  const ratio = meta && meta.total_compressed_size > 0n ? Number(meta.total_uncompressed_size) / Number(meta.total_compressed_size) : 1;
  const ranges: Ranges = [];
  let rangeStart = 0;
  let bytes = 0;
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i]!;
    const first = Number(page.first_row_index);
    if (bytes >= rangeBytes && first > rangeStart && first < groupRows) {
      ranges.push([groupStart + rangeStart, groupStart + first]);
      rangeStart = first;
      bytes = 0;
    }
    bytes += page.compressed_page_size * ratio;
  }
  if (rangeStart === 0) return whole;
  ranges.push([groupStart + rangeStart, groupStart + groupRows]);
  return ranges;
}

/** Column chunks of a row group by top-level column (a struct or list has one per leaf). */
function chunksByColumn(group: RowGroup): Map<string, ColumnChunk[]> {
  const byColumn = new Map<string, ColumnChunk[]>();
  for (const chunk of group.columns) {
    const name = chunk.meta_data?.path_in_schema[0];
    if (name === undefined) continue;
    const list = byColumn.get(name);
    if (list) list.push(chunk);
    else byColumn.set(name, [chunk]);
  }
  return byColumn;
}

/**
 * Parsers for text columns read as bytes: hyparquet then gives each value as a
 * view of its decompressed page, the reader packs the views as offsets
 * (TextRange) and makes the string when the row is made. Strings of a whole range made at once outlive a few young-generation
 * collections while the caller works through the range, get promoted, and
 * become old-generation garbage: on `transbatch prepare` that tripled GC time
 * (100k rows: 2.2 s of GC against 0.6 s for JSONL input) and raised peak RSS.
 */
const KEEP_BYTES: Partial<ParquetParsers> = { ...PARSERS, stringFromBytes: (bytes) => bytes };

/**
 * A top-level, non-nested column whose values hyparquet turns into strings
 * with `stringFromBytes` (BYTE_ARRAY, plain or UTF8/STRING/ENUM annotated):
 * read as bytes and decoded row by row, the same strings in the end.
 */
function textColumn(node: SchemaTree): boolean {
  if (node.children.length > 0) return false;
  const { type, converted_type: converted, logical_type: logical } = node.element;
  if (type !== 'BYTE_ARRAY') return false;
  if (converted !== undefined && converted !== 'UTF8' && converted !== 'ENUM') return false;
  return logical === undefined || logical.type === 'STRING' || logical.type === 'ENUM';
}

/** A range of one column, decoded. */
interface Loaded {
  /** Absolute row number of values[0]. */
  start: number;
  /** A text column's values packed as byte offsets (see TextRange), else as hyparquet decodes them. */
  values: DecodedArray | TextRange;
}

/**
 * One column, read range by range across the row groups, the next range
 * always on its way (file read and decoding overlap the caller's work).
 */
interface ColumnCursor {
  name: string;
  /** A flat text column read as UTF-8 bytes (see textColumn): each value decoded when its row is made. */
  text: boolean;
  /** Where this column's pages are decompressed: the current range's and the next one's, reused (see PageArena). */
  arena: PageArena;
  compressors: Compressors;
  /** Row group of `ranges`; -1 before the first. */
  group: number;
  ranges: Ranges;
  next: number;
  current: Loaded;
  pending: Promise<Loaded | undefined>;
}

const ignore = (): void => {};

/**
 * Streams a Parquet file row by row, in file order. Each column is decoded a
 * range of whole pages at a time (about 1 MiB) when the file has offset
 * indexes (hyparquet-writer, parquet-mr/Spark, pyarrow with write_page_index),
 * so memory stays at a few MB per column even for row groups of a million
 * rows; without them, one column chunk of a row group at a time. While the
 * caller works on a range, the next one of each column is read and decoded.
 * Values are plain JSON-like data: strings stay strings, INT64 becomes a
 * number when exact (else a decimal string), dates and timestamps ISO strings,
 * lists and structs arrays and objects. `line` is the 1-based row number.
 */
export async function* readParquetRecords(path: string, options: ParquetReadOptions = {}): AsyncGenerator<SourceRecord> {
  const rangeBytes = options.rangeBytes ?? RANGE_BYTES;
  let handle: FileHandle;
  let byteLength: number;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw cannotRead(path, error);
  }
  const cursors: ColumnCursor[] = [];
  try {
    try {
      byteLength = (await handle.stat()).size;
    } catch (error) {
      throw cannotRead(path, error);
    }
    const file = fileAsyncBuffer(handle, byteLength);
    const metadata = await readMetadata(path, file);
    let columns: { name: string; text: boolean }[];
    try {
      columns = parquetSchema(metadata).children.map((child) => ({ name: child.element.name, text: textColumn(child) }));
    } catch (error) {
      throw new TransbatchError('input', `not a readable Parquet file: ${describe(error)}`, { file: path }, { cause: error });
    }
    const groups = metadata.row_groups;
    const groupStarts: number[] = [];
    let total = 0;
    for (const group of groups) {
      groupStarts.push(total);
      total += Number(group.num_rows);
    }
    const columnsOf = groups.map((group) => chunksByColumn(group));
    const cannotDecode = (rowStart: number, rowEnd: number, message: string, cause?: unknown) =>
      new TransbatchError(
        'input',
        `cannot decode Parquet rows ${rowStart + 1}-${rowEnd}: ${message}`,
        { file: path, line: rowStart + 1 },
        cause === undefined ? undefined : { cause },
      );

    /** Reads the cursor's next range (planning the next row group's ranges when needed); undefined after the last. */
    const fetchNext = async (cursor: ColumnCursor): Promise<Loaded | undefined> => {
      while (cursor.next >= cursor.ranges.length) {
        const g = ++cursor.group;
        if (g >= groups.length) return undefined;
        const rows = Number(groups[g]!.num_rows);
        if (rows === 0) continue;
        const chunks = columnsOf[g]!.get(cursor.name);
        if (!chunks) throw cannotDecode(groupStarts[g]!, groupStarts[g]! + rows, `row group ${g + 1} has no column ${cursor.name}`);
        cursor.ranges = await columnRanges(file, chunks, groupStarts[g]!, rows, rangeBytes);
        cursor.next = 0;
      }
      const [rowStart, rowEnd] = cursor.ranges[cursor.next++]!;
      // The caller is on the previous range (or none yet): the one before it is done with.
      cursor.arena.nextRange();
      let values: DecodedArray;
      try {
        // A scan per range: hyparquet's scan keeps the last range it read of each column, which would keep
        // that range's values (one object each) alive until the next read, long enough to be promoted.
        const scan = await parquetScan({
          file,
          metadata,
          columns: [cursor.name],
          rowStart,
          rowEnd,
          compressors: cursor.compressors,
          parsers: cursor.text ? KEEP_BYTES : PARSERS,
          useOffsetIndex: true,
        });
        values = await scan.readColumn({ column: cursor.name, rowStart, rowEnd });
      } catch (error) {
        throw cannotDecode(rowStart, rowEnd, describe(error), error);
      }
      if (values.length !== rowEnd - rowStart) {
        throw cannotDecode(rowStart, rowEnd, `column ${cursor.name} has ${values.length} values`);
      }
      return { start: rowStart, values: (cursor.text && TextRange.pack(values)) || values };
    };
    const prefetch = (cursor: ColumnCursor): void => {
      cursor.pending = fetchNext(cursor);
      // Awaited (and thrown) when its rows are reached; not an unhandled rejection before that, or if the caller stops early.
      cursor.pending.catch(ignore);
    };

    for (const { name, text } of columns) {
      // hyparquet decodes UNCOMPRESSED itself; SNAPPY, GZIP and BROTLI go through the arena. ZSTD, LZ4 and LZO
      // need `hyparquet-compressors` (not installed): such files fail with a message naming the codec.
      const arena = new PageArena();
      const cursor: ColumnCursor = {
        name,
        text,
        arena,
        compressors: arena.compressors(),
        group: -1,
        ranges: [],
        next: 0,
        current: { start: 0, values: [] },
        pending: Promise.resolve(undefined),
      };
      prefetch(cursor);
      cursors.push(cursor);
    }

    // The first row not in every column's current range: where the next ranges come in.
    let refill = 0;
    for (let index = 0; index < total; index++) {
      if (index === refill) {
        refill = total;
        for (const cursor of cursors) {
          if (index >= cursor.current.start + cursor.current.values.length) {
            const loaded = await cursor.pending;
            if (!loaded || loaded.start !== index) {
              throw cannotDecode(index, total, `column ${cursor.name} ${loaded ? `resumes at row ${loaded.start + 1}` : 'ends early'}`);
            }
            cursor.current = loaded;
            prefetch(cursor);
          }
          refill = Math.min(refill, cursor.current.start + cursor.current.values.length);
        }
      }
      const record: DataRecord = {};
      for (let c = 0; c < cursors.length; c++) {
        const cursor = cursors[c]!;
        const { start, values } = cursor.current;
        if (values instanceof TextRange) {
          record[cursor.name] = values.get(index - start);
          continue;
        }
        const value: unknown = values[index - start];
        record[cursor.name] =
          typeof value === 'string'
            ? value
            : cursor.text && value instanceof Uint8Array
              ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
              : toPlain(value);
      }
      yield { index, line: index + 1, record };
    }
  } finally {
    // Let reads still in flight finish before the handle goes (their results are dropped).
    await Promise.allSettled(cursors.map((cursor) => cursor.pending));
    await handle.close();
  }
}
