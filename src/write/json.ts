import type { DataRecord } from '../read/types.js';
import { AtomicFile } from './atomic-file.js';
import type { RecordWriter } from './types.js';

/** A JSON array, one element per line (`[\n{…},\n{…}\n]\n`), written as a stream. */
export function openJsonArrayWriter(path: string): RecordWriter {
  const file = new AtomicFile(path);
  let count = 0;
  let closed = false;
  return {
    write: (record: DataRecord) => file.writeText((count++ === 0 ? '[\n' : ',\n') + JSON.stringify(record)),
    close: async () => {
      if (closed) return;
      closed = true;
      await file.writeText(count === 0 ? '[]\n' : '\n]\n');
      await file.close();
    },
    abort: () => file.abort(),
  };
}
