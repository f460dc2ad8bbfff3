/**
 * The sequential merge join behind merge and review: input records (in row
 * order) beside the run state's unit results (sorted by row), one row at a
 * time — nothing but the current row is held.
 */
import { TransbatchError } from '../errors.js';
import type { SourceRecord } from '../read/types.js';

export async function* joinRowsWithUnits<U extends { row: number }>(
  records: AsyncIterable<SourceRecord>,
  units: Iterator<U>,
): AsyncGenerator<SourceRecord & { units: U[] }> {
  let pending = units.next();
  try {
    for await (const source of records) {
      const rowUnits: U[] = [];
      while (!pending.done && pending.value.row === source.index) {
        rowUnits.push(pending.value);
        pending = units.next();
      }
      if (!pending.done && pending.value.row < source.index) throw changedInput(pending.value.row, 'that the input no longer has');
      yield { ...source, units: rowUnits };
    }
    if (!pending.done) throw changedInput(pending.value.row, 'beyond the end of the input');
  } finally {
    units.return?.();
  }
}

function changedInput(row: number, what: string): TransbatchError {
  return new TransbatchError('state', `the run state has results for row ${row} ${what}; the input changed: run again to start a new run`);
}
