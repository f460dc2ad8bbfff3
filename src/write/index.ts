import type { DataFormat } from '../config/schema.js';
import { openCsvWriter } from './csv.js';
import { openJsonArrayWriter } from './json.js';
import { openJsonlWriter } from './jsonl.js';
import { openParquetWriter } from './parquet.js';
import type { RecordWriter, WriterOptions } from './types.js';

/** Opens an atomic, streaming writer for one output file in the given format. */
export function openRecordWriter(path: string, format: DataFormat, options: WriterOptions = {}): RecordWriter {
  switch (format) {
    case 'csv':
      return openCsvWriter(path, options);
    case 'jsonl':
      return openJsonlWriter(path);
    case 'json':
      return openJsonArrayWriter(path);
    case 'parquet':
      return openParquetWriter(path, options);
  }
}
