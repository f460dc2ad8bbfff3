import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { AsyncBuffer, Compressors, FileMetaData, ParquetParsers } from 'hyparquet';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { TransbatchError } from '../errors.js';
import { cannotRead } from './source-file.js';
import type { DataRecord, SourceRecord } from './types.js';

/**
 * hyparquet reads UNCOMPRESSED and SNAPPY by itself; GZIP and BROTLI come from
 * node:zlib at no extra cost. ZSTD, LZ4 and LZO need `hyparquet-compressors`
 * (not installed): such files fail with a message naming the codec.
 */
const ZLIB_DECOMPRESSORS: Compressors = {
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
};

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
      return buffer.buffer.slice(0, done) as ArrayBuffer;
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
 * Streams a Parquet file one row group at a time (rows in file order). Values
 * are plain JSON-like data: strings stay strings, INT64 becomes a number when
 * exact (else a decimal string), dates and timestamps ISO strings, lists and
 * structs arrays and objects. `line` is the 1-based row number.
 */
export async function* readParquetRecords(path: string): AsyncGenerator<SourceRecord> {
  let handle: FileHandle;
  let byteLength: number;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw cannotRead(path, error);
  }
  try {
    try {
      byteLength = (await handle.stat()).size;
    } catch (error) {
      throw cannotRead(path, error);
    }
    const file = fileAsyncBuffer(handle, byteLength);
    const metadata = await readMetadata(path, file);
    let index = 0;
    for (const group of metadata.row_groups) {
      const rowStart = index;
      const rowEnd = rowStart + Number(group.num_rows);
      if (rowEnd === rowStart) continue;
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors: ZLIB_DECOMPRESSORS, parsers: PARSERS });
      } catch (error) {
        throw new TransbatchError(
          'input',
          `cannot decode Parquet rows ${rowStart + 1}-${rowEnd}: ${describe(error)}`,
          { file: path, line: rowStart + 1 },
          { cause: error },
        );
      }
      for (let i = 0; i < rows.length; i++) {
        const record = toPlainObject(rows[i]!);
        // Let the group's array go as we go, so its rows can be collected early.
        rows[i] = undefined as unknown as Record<string, unknown>;
        yield { index, line: index + 1, record };
        index++;
      }
    }
  } finally {
    await handle.close();
  }
}
