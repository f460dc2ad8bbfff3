import { stringify } from 'csv-stringify';
import { TransbatchError } from '../errors.js';
import type { DataRecord } from '../read/types.js';
import { AtomicFile } from './atomic-file.js';
import type { RecordWriter, WriterOptions } from './types.js';

/** Cells are text: numbers and booleans as written in JSON, objects as JSON, null as empty. */
const cast = {
  boolean: (value: boolean) => String(value),
  number: (value: number) => String(value),
  bigint: (value: bigint) => String(value),
  date: (value: Date) => value.toISOString(),
  object: (value: Record<string, unknown>) => JSON.stringify(value),
};

/**
 * CSV with a header row from `options.columns`, else from the first record's
 * keys. Rows are written as arrays so column names are never read as nested
 * paths. Quoting only where needed; quoted `\r\n` survives a round trip.
 */
export function openCsvWriter(path: string, options: WriterOptions = {}): RecordWriter {
  const file = new AtomicFile(path);
  let columns: readonly string[] | undefined;
  let known: ReadonlySet<string> = new Set();
  let rows = 0;

  const start = (names: readonly string[]): Promise<void> => {
    columns = names;
    known = new Set(names);
    file.pipeFrom(stringify({ cast, quote_record_delimiter: true }));
    return file.write(names);
  };
  if (options.columns) void start(options.columns).catch(() => {});

  const toRow = (record: DataRecord): unknown[] => {
    const names = columns!;
    for (const key in record) {
      if (Object.hasOwn(record, key) && !known.has(key)) {
        throw new TransbatchError(
          'input',
          `row ${rows + 1} has a field ${JSON.stringify(key)} that is not a CSV column (${names.join(', ')}); CSV needs every column up front`,
          { file: path, key },
        );
      }
    }
    const row = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) row[i] = record[names[i]!];
    return row;
  };

  return {
    write: (record: DataRecord) => {
      try {
        const ready = columns === undefined ? start(Object.keys(record)) : undefined;
        const written = file.write(toRow(record));
        rows++;
        return ready ? ready.then(() => written) : written;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close: () => file.close(),
    abort: () => file.abort(),
  };
}
