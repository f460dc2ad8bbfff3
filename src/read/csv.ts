import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { type CsvError, type Options, parse } from 'csv-parse';
import { TransbatchError } from '../errors.js';
import { cannotRead, READ_CHUNK_BYTES } from './source-file.js';
import type { DataRecord, SourceRecord } from './types.js';

/** Checks the header row: every column named, no name twice. */
export function validateCsvHeader(header: readonly string[], file: string, line: number): void {
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '') throw new TransbatchError('input', `CSV header: column ${i + 1} has no name`, { file, line });
    if (seen.has(name)) throw new TransbatchError('input', `CSV header: duplicate column ${JSON.stringify(name)}`, { file, line });
    seen.add(name);
  });
}

function toRecord(header: readonly string[], cells: readonly string[]): DataRecord {
  const record: DataRecord = {};
  for (let i = 0; i < header.length; i++) {
    const key = header[i]!;
    // A "__proto__" column must become an own property, not the prototype.
    if (key === '__proto__') Object.defineProperty(record, key, { value: cells[i], enumerable: true, writable: true, configurable: true });
    else record[key] = cells[i];
  }
  return record;
}

function countNewlines(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) {
    for (let at = cell.indexOf('\n'); at !== -1; at = cell.indexOf('\n', at + 1)) count++;
  }
  return count;
}

function isCsvError(error: unknown): error is CsvError {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('CSV_');
}

/**
 * Streams CSV rows as string maps keyed by the header row. Values are kept
 * byte-exact (no trimming, no casting); quoted newlines stay as written.
 */
export async function* readCsvRecords(path: string): AsyncGenerator<SourceRecord> {
  let header: string[] | undefined;
  let index = 0;
  // Where the next record starts. csv-parse's own line count treats a quoted
  // CRLF as two lines, so count the newlines inside the cells instead: outside
  // quotes a newline only ends a record.
  let nextLine = 1;

  const onRecord = (cells: string[]): SourceRecord | null => {
    const line = nextLine;
    nextLine += 1 + countNewlines(cells);
    if (header === undefined) {
      validateCsvHeader(cells, path, line);
      header = cells;
      return null;
    }
    // An empty line in a multi-column file is a blank line, not a row with one empty cell.
    if (cells.length === 1 && cells[0] === '' && header.length > 1) return null;
    if (cells.length !== header.length) {
      throw new TransbatchError('input', `CSV row has ${cells.length} cells but the header has ${header.length}`, { file: path, line });
    }
    return { index: index++, line, record: toRecord(header, cells) };
  };

  const options: Options<SourceRecord, string[]> = { bom: true, relax_column_count: true, on_record: onRecord };
  // The typings tie on_record's result to the row type; ours turns rows into SourceRecords.
  const parser = parse(options as unknown as Options);
  pipeline(createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }), parser, () => {
    // Errors surface through the parser's async iterator below.
  });
  try {
    for await (const row of parser) yield row as SourceRecord;
  } catch (error) {
    if (error instanceof TransbatchError) throw error;
    if (isCsvError(error)) {
      if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
        throw new TransbatchError('input', 'unclosed quote: a quoted field starts here and never ends', { file: path, line: nextLine });
      }
      throw new TransbatchError('input', `malformed CSV: ${error.message}`, { file: path, line: nextLine });
    }
    throw cannotRead(path, error);
  } finally {
    parser.destroy();
  }
}
