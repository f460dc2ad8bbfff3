import { afterAll, describe, expect, it } from 'vitest';
import { readJsonlRecords } from '../../src/read/jsonl.js';
import { collect, inputError, tempFolder } from './helpers.js';

const tmp = tempFolder('tb-jsonl-');
afterAll(tmp.cleanup);

describe('readJsonlRecords', () => {
  it('reads one object per line, skipping but counting blank lines', async () => {
    const path = tmp.write('good.jsonl', '{"a":1}\n\n  \n{"a":"二"}\n{"a":{"b":[1,2]}}');
    expect(await collect(readJsonlRecords(path))).toEqual([
      { index: 0, line: 1, record: { a: 1 } },
      { index: 1, line: 4, record: { a: '二' } },
      { index: 2, line: 5, record: { a: { b: [1, 2] } } },
    ]);
  });

  it('handles a UTF-8 BOM and CRLF line endings', async () => {
    const path = tmp.write('bom.jsonl', '\ufeff{"k":"v"}\r\n\r\n{"k":"w\\r\\n"}\r\n');
    expect(await collect(readJsonlRecords(path))).toEqual([
      { index: 0, line: 1, record: { k: 'v' } },
      { index: 1, line: 3, record: { k: 'w\r\n' } },
    ]);
  });

  it('reports bad JSON with file and line', async () => {
    const path = tmp.write('bad.jsonl', '{"a":1}\n{"a":2}\n{"a":\n{"a":4}\n');
    const error = await inputError(readJsonlRecords(path));
    expect(error.code).toBe('input');
    expect(error.context).toEqual({ file: path, line: 3 });
    expect(error.message).toMatch(/^invalid JSON: /);
    expect(error.where).toBe(`${path}:3: `);
  });

  it.each([
    ['[1,2]', 'array'],
    ['42', 'number'],
    ['"text"', 'string'],
    ['null', 'null'],
  ])('rejects a non-object line %s', async (line, kind) => {
    const path = tmp.write(`non-object-${kind}.jsonl`, `{"ok":true}\n${line}\n`);
    const error = await inputError(readJsonlRecords(path));
    expect(error.message).toBe(`expected a JSON object, got ${kind}`);
    expect(error.context).toEqual({ file: path, line: 2 });
  });

  it('reads lines that span read chunks', async () => {
    const long = 'x'.repeat(3 << 20);
    const path = tmp.write('long.jsonl', `{"a":"${long}"}\n{"b":"é"}\n`);
    const rows = await collect(readJsonlRecords(path));
    expect(rows.map((row) => row.line)).toEqual([1, 2]);
    expect((rows[0]!.record['a'] as string).length).toBe(long.length);
    expect(rows[1]!.record).toEqual({ b: 'é' });
  });

  it('streams many rows', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ i, text: `row ${i} ☃` }));
    const path = tmp.write('many.jsonl', lines.join('\n') + '\n');
    const rows = await collect(readJsonlRecords(path));
    expect(rows.length).toBe(50_000);
    expect(rows[49_999]).toEqual({ index: 49_999, line: 50_000, record: { i: 49_999, text: 'row 49999 ☃' } });
  });

  it('turns a missing file into an input error', async () => {
    const path = `${tmp.dir}/missing.jsonl`;
    const error = await inputError(readJsonlRecords(path));
    expect(error.message).toBe(`cannot read ${path}: ENOENT`);
    expect(error.context).toEqual({ file: path });
  });
});
