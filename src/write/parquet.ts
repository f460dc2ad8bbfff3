import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ColumnSource, SchemaElement } from 'hyparquet-writer';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { TransbatchError } from '../errors.js';
import type { DataRecord } from '../read/types.js';
import type { RecordWriter, WriterOptions } from './types.js';

/** Row-group limits: whichever is reached first closes the group. */
export interface ParquetWriterLimits {
  /** Rows per row group (default 10,000). */
  rowGroupRows?: number;
  /** Approximate in-memory size of a row group's values, in bytes (default 64 MiB). */
  rowGroupBytes?: number;
}

const DEFAULT_ROW_GROUP_ROWS = 10_000;
const DEFAULT_ROW_GROUP_BYTES = 64 << 20;

/**
 * The shape of a column, inferred from the first row group: Parquet needs one
 * schema for the whole file. `json` is the fallback for values whose shapes
 * conflict (or empty objects): written as a JSON string column, which hyparquet
 * parses back into the value.
 */
type Shape =
  | { kind: 'unknown' | 'string' | 'int' | 'double' | 'boolean' | 'timestamp' | 'json' }
  | { kind: 'list'; element: Shape }
  | { kind: 'struct'; fields: Map<string, Shape> };

const UNKNOWN: Shape = { kind: 'unknown' };
const JSON_SHAPE: Shape = { kind: 'json' };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function shapeOf(value: unknown): Shape {
  if (value === null || value === undefined) return UNKNOWN;
  switch (typeof value) {
    case 'string':
      return { kind: 'string' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'bigint':
      return { kind: 'int' };
    case 'number':
      return { kind: Number.isSafeInteger(value) ? 'int' : 'double' };
    case 'object':
      break;
    default:
      return JSON_SHAPE;
  }
  if (value instanceof Date) return { kind: 'timestamp' };
  if (Array.isArray(value)) {
    let element: Shape = UNKNOWN;
    for (const item of value) element = merge(element, shapeOf(item));
    return { kind: 'list', element };
  }
  if (!isPlainObject(value)) return JSON_SHAPE;
  const fields = new Map<string, Shape>();
  for (const [key, item] of Object.entries(value)) fields.set(key, shapeOf(item));
  return fields.size === 0 ? JSON_SHAPE : { kind: 'struct', fields };
}

function merge(a: Shape, b: Shape): Shape {
  if (a.kind === 'unknown') return b;
  if (b.kind === 'unknown') return a;
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', element: merge(a.element, b.element) };
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = new Map(a.fields);
    for (const [key, shape] of b.fields) fields.set(key, merge(fields.get(key) ?? UNKNOWN, shape));
    return { kind: 'struct', fields };
  }
  if (a.kind === b.kind) return a;
  if ((a.kind === 'int' && b.kind === 'double') || (a.kind === 'double' && b.kind === 'int')) return { kind: 'double' };
  return JSON_SHAPE;
}

/** Schema elements for one field, depth first (Parquet's flattened tree). */
function schemaOf(name: string, shape: Shape): SchemaElement[] {
  const repetition_type = 'OPTIONAL';
  switch (shape.kind) {
    case 'unknown':
    case 'string':
      return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type }];
    case 'json':
      return [{ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type }];
    case 'int':
      return [{ name, type: 'INT64', repetition_type }];
    case 'double':
      return [{ name, type: 'DOUBLE', repetition_type }];
    case 'boolean':
      return [{ name, type: 'BOOLEAN', repetition_type }];
    case 'timestamp':
      return [{ name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type }];
    case 'list':
      return [
        { name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...schemaOf('element', shape.element),
      ];
    case 'struct': {
      const children = [...shape.fields].flatMap(([key, field]) => schemaOf(key, field));
      return [{ name, repetition_type, num_children: shape.fields.size }, ...children];
    }
  }
}

class ShapeMismatch extends Error {}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)?.slice(0, 40)}`;
}

/** The value as hyparquet-writer wants it for `shape` (INT64 as bigint), or ShapeMismatch. */
function conform(value: unknown, shape: Shape, path: string): unknown {
  if (value === null || value === undefined) return null;
  const mismatch = (expected: string) => new ShapeMismatch(`${path}: expected ${expected}, got ${describeValue(value)}`);
  switch (shape.kind) {
    case 'json':
      return value;
    case 'unknown':
    case 'string':
      if (typeof value !== 'string') throw mismatch('a string');
      return value;
    case 'int':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      throw mismatch('an integer');
    case 'double':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      throw mismatch('a number');
    case 'boolean':
      if (typeof value !== 'boolean') throw mismatch('a boolean');
      return value;
    case 'timestamp':
      if (!(value instanceof Date)) throw mismatch('a date');
      return value;
    case 'list':
      if (!Array.isArray(value)) throw mismatch('a list');
      return value.map((item, i) => conform(item, shape.element, `${path}[${i}]`));
    case 'struct': {
      if (!isPlainObject(value)) throw mismatch('an object');
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (!shape.fields.has(key) && value[key] !== null && value[key] !== undefined) {
          throw new ShapeMismatch(`${path}.${key}: a key not present in the first rows`);
        }
      }
      for (const [key, field] of shape.fields) out[key] = conform(value[key], field, `${path}.${key}`);
      return out;
    }
  }
}

/** A rough size of a value in memory, to cap row groups of very long texts. */
function approxBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 8;
  if (value === null || typeof value !== 'object') return 8;
  let total = 16;
  if (Array.isArray(value)) {
    for (const item of value) total += approxBytes(item);
  } else if (isPlainObject(value)) {
    for (const key in value) total += key.length + approxBytes(value[key]);
  }
  return total;
}

/**
 * A hyparquet-writer sink that hands each row group's bytes to the file and
 * reuses its buffer: ParquetWriter awaits `flush()` before encoding the next
 * group, so memory holds at most one encoded row group.
 */
class FileSink extends ByteWriter {
  constructor(private readonly handle: FileHandle) {
    super(1 << 20);
  }

  async flush(): Promise<void> {
    const length = this.index;
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.handle.write(new Uint8Array(this.buffer, done, length - done));
      done += bytesWritten;
    }
    this.index = 0;
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/**
 * Writes records as Parquet, one row group per 10,000 rows (or 64 MiB of
 * values), into `<path>.tmp-<pid>`, renamed over `path` by `close()`.
 *
 * The schema is inferred from the first row group (column order: `columns`,
 * else keys in order of first appearance): strings → UTF8, integers → INT64,
 * other numbers → DOUBLE, booleans, Dates → TIMESTAMP_MILLIS, arrays → LIST,
 * objects → struct, nested to any depth; every field is nullable. Columns whose
 * values have conflicting shapes are stored as JSON text. A later row that does
 * not fit the schema (a new key, another type) fails with a TransbatchError.
 */
export function openParquetWriter(path: string, options: WriterOptions, limits: ParquetWriterLimits = {}): RecordWriter {
  const maxRows = limits.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  const maxBytes = limits.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES;
  const tmpPath = `${path}.tmp-${process.pid}`;
  const opening = mkdir(dirname(path), { recursive: true }).then(() => open(tmpPath, 'w'));
  opening.catch(() => {}); // surfaced by the first await below

  let columns: string[] | undefined;
  let shapes: Shape[] = [];
  let parquet: ParquetWriter | undefined;
  let handle: FileHandle | undefined;
  let buffered: DataRecord[] = [];
  let bufferedBytes = 0;
  let rowsWritten = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';

  const fail = (message: string): TransbatchError => new TransbatchError('input', `cannot write Parquet: ${message}`, { file: path });
  // Same code as the other writers for I/O failures: the output path comes from the config.
  const cannotWrite = (error: unknown): TransbatchError =>
    new TransbatchError(
      'config',
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { file: path },
      { cause: error },
    );
  const ioErrors = (error: unknown): never => {
    throw typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string' ? cannotWrite(error) : error;
  };

  async function start(rows: readonly DataRecord[]): Promise<ParquetWriter> {
    try {
      handle = await opening;
    } catch (error) {
      throw cannotWrite(error);
    }
    const names = options.columns ? [...options.columns] : [];
    if (!options.columns) {
      const seen = new Set<string>();
      for (const row of rows) {
        for (const key of Object.keys(row)) {
          if (seen.has(key)) continue;
          seen.add(key);
          names.push(key);
        }
      }
    }
    columns = names;
    shapes = names.map((name) => {
      let shape: Shape = UNKNOWN;
      for (const row of rows) shape = merge(shape, shapeOf(row[name]));
      return shape;
    });
    const schema: SchemaElement[] = [{ name: 'root', num_children: names.length }];
    for (const [i, name] of names.entries()) schema.push(...schemaOf(name, shapes[i]!));
    return new ParquetWriter({ writer: new FileSink(handle), schema, createdBy: 'transbatch' });
  }

  async function writeGroup(): Promise<void> {
    const rows = buffered;
    buffered = [];
    bufferedBytes = 0;
    parquet ??= await start(rows);
    const names = columns!;
    const known = new Set(names);
    const data: unknown[][] = names.map(() => new Array(rows.length));
    rows.forEach((row, r) => {
      for (const key of Object.keys(row)) {
        if (!known.has(key) && row[key] !== null && row[key] !== undefined) {
          throw fail(`row ${rowsWritten + r + 1}: column "${key}" is not among the columns (${names.join(', ')})`);
        }
      }
      names.forEach((name, c) => {
        try {
          data[c]![r] = conform(row[name], shapes[c]!, name);
        } catch (error) {
          if (!(error instanceof ShapeMismatch)) throw error;
          throw fail(`row ${rowsWritten + r + 1}: ${error.message} (the schema comes from the first ${maxRows} rows)`);
        }
      });
    });
    const columnData = names.map((name, c) => ({ name, data: data[c]! }) as ColumnSource);
    await Promise.resolve(parquet.write({ columnData, rowGroupSize: rows.length })).catch(ioErrors);
    rowsWritten += rows.length;
  }

  async function cleanup(): Promise<void> {
    const h = handle ?? (await opening.catch(() => undefined));
    handle = undefined;
    await h?.close().catch(() => {});
    await rm(tmpPath, { force: true }).catch(() => {}); // e.g. ENOTDIR: there was never a file
  }

  return {
    async write(record: DataRecord): Promise<void> {
      if (state !== 'open') throw new Error(`Parquet writer for ${path} is ${state}`);
      buffered.push(record);
      bufferedBytes += approxBytes(record);
      if (buffered.length >= maxRows || bufferedBytes >= maxBytes) await writeGroup();
    },

    async close(): Promise<void> {
      if (state !== 'open') throw new Error(`Parquet writer for ${path} is ${state}`);
      state = 'closed';
      try {
        if (buffered.length > 0 || !parquet) {
          if (buffered.length > 0) await writeGroup();
          else parquet = await start([]);
        }
        await Promise.resolve(parquet!.finish()).catch(ioErrors);
        await handle!.close().catch(ioErrors);
        handle = undefined;
        await rename(tmpPath, path).catch(ioErrors);
      } catch (error) {
        await cleanup();
        throw error;
      }
    },

    async abort(): Promise<void> {
      if (state === 'aborted') return;
      state = 'aborted';
      buffered = [];
      await cleanup();
    },
  };
}
