import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCsvRecords } from '../../src/read/csv.js';
import { collect, inputError, tempFolder } from './helpers.js';
import { TRICKY_CSV, TRICKY_ROWS } from './tricky-csv.js';

const tmp = tempFolder('tb-csv-');
afterAll(tmp.cleanup);

describe('readCsvRecords', () => {
  it('reads the tricky fixture byte-exact, with the line each row starts on', async () => {
    const rows = await collect(readCsvRecords(TRICKY_CSV));
    expect(rows.map((row) => row.record)).toEqual(TRICKY_ROWS);
    expect(rows.map((row) => row.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.map((row) => row.line)).toEqual([2, 3, 6, 7, 8, 10]);
    expect(Object.keys(rows[0]!.record)).toEqual(['id', 'text', 'note', 'empty']);
  });

  it('reads LF files without a trailing newline and skips blank lines', async () => {
    const path = tmp.write('lf.csv', 'a,b\n1,2\n\n3,"x\ny"\n4,');
    const rows = await collect(readCsvRecords(path));
    expect(rows).toEqual([
      { index: 0, line: 2, record: { a: '1', b: '2' } },
      { index: 1, line: 4, record: { a: '3', b: 'x\ny' } },
      { index: 2, line: 6, record: { a: '4', b: '' } },
    ]);
  });

  it('keeps empty lines as empty values in a one-column file', async () => {
    const path = tmp.write('one.csv', 'text\nhi\n\nthere\n');
    expect((await collect(readCsvRecords(path))).map((row) => row.record)).toEqual([{ text: 'hi' }, { text: '' }, { text: 'there' }]);
  });

  it('yields nothing for a header-only file', async () => {
    expect(await collect(readCsvRecords(tmp.write('header.csv', 'a,b\r\n')))).toEqual([]);
  });

  it('reports an unclosed quote at the line where the field starts', async () => {
    const path = tmp.write('unclosed.csv', 'a,b\n1,2\n3,"never\nclosed\n4,5\n');
    const error = await inputError(readCsvRecords(path));
    expect(error.code).toBe('input');
    expect(error.message).toMatch(/^unclosed quote/);
    expect(error.context).toEqual({ file: path, line: 3 });
  });

  it('reports a row with the wrong number of cells', async () => {
    const path = tmp.write('ragged.csv', 'a,b\n1,2\n"multi\nline",2\n1,2,3\n');
    const error = await inputError(readCsvRecords(path));
    expect(error.message).toBe('CSV row has 3 cells but the header has 2');
    expect(error.context).toEqual({ file: path, line: 5 });
  });

  it.each([
    ['a,b,a\n1,2,3\n', 'CSV header: duplicate column "a"'],
    ['a,,c\n1,2,3\n', 'CSV header: column 2 has no name'],
  ])('rejects a bad header %j', async (content, message) => {
    const path = tmp.write('bad-header.csv', content);
    const error = await inputError(readCsvRecords(path));
    expect(error.message).toBe(message);
    expect(error.context).toEqual({ file: path, line: 1 });
  });

  it('reports malformed quoting with its line', async () => {
    const path = tmp.write('bad-quote.csv', 'a,b\n1,2\n"x"y,2\n');
    const error = await inputError(readCsvRecords(path));
    expect(error.message).toMatch(/^malformed CSV: /);
    expect(error.context).toEqual({ file: path, line: 3 });
  });

  it('turns a missing file into an input error', async () => {
    const path = join(tmp.dir, 'missing.csv');
    const error = await inputError(readCsvRecords(path));
    expect(error.message).toBe(`cannot read ${path}: ENOENT`);
    expect(error.context).toEqual({ file: path });
  });

  it('keeps a __proto__ column as a plain field', async () => {
    const rows = await collect(readCsvRecords(tmp.write('proto.csv', '__proto__,b\nx,y\n')));
    expect(Object.keys(rows[0]!.record)).toEqual(['__proto__', 'b']);
    expect(Object.getOwnPropertyDescriptor(rows[0]!.record, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(rows[0]!.record)).toBe(Object.prototype);
  });
});
