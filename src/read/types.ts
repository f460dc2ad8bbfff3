/** A data row as read from any format: CSV rows are flat string maps, JSON rows any object. */
export type DataRecord = Record<string, unknown>;

export interface SourceRecord {
  /** 0-based index over data rows (the header of a CSV is not a row). */
  index: number;
  /** 1-based line in the file where the row starts (for messages); for Parquet, index + 1. */
  line: number;
  record: DataRecord;
}
