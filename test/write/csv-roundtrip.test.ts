import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCsvRecords } from '../../src/read/csv.js';
import { openRecordWriter } from '../../src/write/index.js';
import { collect } from '../read/helpers.js';
import { TRICKY_CSV, TRICKY_ROWS } from '../read/tricky-csv.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-roundtrip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CSV round trip', () => {
  it('reads the tricky fixture, writes it, reads it back byte-identical', async () => {
    const original = await collect(readCsvRecords(TRICKY_CSV));
    const path = join(dir, 'copy.csv');
    const writer = openRecordWriter(path, 'csv');
    for (const row of original) await writer.write(row.record);
    await writer.close();

    const copy = await collect(readCsvRecords(path));
    expect(copy.map((row) => row.record)).toEqual(TRICKY_ROWS);
    for (const [i, row] of copy.entries()) {
      for (const [key, value] of Object.entries(row.record)) {
        expect(Buffer.from(value as string).equals(Buffer.from(original[i]!.record[key] as string))).toBe(true);
      }
    }
    // Quoted CRLF stays CRLF in the written file; records end with LF.
    const written = readFileSync(path, 'utf8');
    expect(written).toContain('"crlf1\r\ncrlf2"');
    expect(written.startsWith('id,text,note,empty\n')).toBe(true);
  });
});
