import type { DataRecord } from '../read/types.js';

/**
 * A streaming writer for one output file. Writes go to a temporary file beside
 * the target, renamed over it by `close()`, so a killed process never leaves a
 * half-written output behind. `abort()` removes the temporary file.
 */
export interface RecordWriter {
  /** Resolves when the record is accepted (awaits backpressure). */
  write(record: DataRecord): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export interface WriterOptions {
  /**
   * CSV/Parquet column order. When absent, the keys of the first record, with
   * keys first seen later appended (CSV needs them up front: see the reader).
   */
  columns?: readonly string[];
}
