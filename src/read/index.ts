import type { DataFormat } from '../config/schema.js';
import { readCsvRecords } from './csv.js';
import { readJsonArrayRecords } from './json.js';
import { readJsonlRecords } from './jsonl.js';
import { readParquetRecords } from './parquet.js';
import type { SourceRecord } from './types.js';

/** Streams the records of a dataset file in order, whatever its format. */
export function readRecords(path: string, format: DataFormat): AsyncIterable<SourceRecord> {
  switch (format) {
    case 'csv':
      return readCsvRecords(path);
    case 'jsonl':
      return readJsonlRecords(path);
    case 'json':
      return readJsonArrayRecords(path);
    case 'parquet':
      return readParquetRecords(path);
  }
}
