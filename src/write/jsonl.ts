import type { DataRecord } from '../read/types.js';
import { AtomicFile } from './atomic-file.js';
import type { RecordWriter } from './types.js';

/** One `JSON.stringify(record)` per line, UTF-8, no BOM. */
export function openJsonlWriter(path: string): RecordWriter {
  const file = new AtomicFile(path);
  return {
    write: (record: DataRecord) => file.writeText(JSON.stringify(record) + '\n'),
    close: () => file.close(),
    abort: () => file.abort(),
  };
}
