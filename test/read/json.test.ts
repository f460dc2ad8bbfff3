import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonArrayRecords } from '../../src/read/json.js';
import { collect, inputError, tempFolder } from './helpers.js';

const tmp = tempFolder('tb-json-');
afterAll(tmp.cleanup);

describe('readJsonArrayRecords', () => {
  it('reads a pretty-printed array with nesting and tricky strings', async () => {
    const elements = [
      { text: 'ends with ] and }', nested: { list: [[1], [2, { deep: ']}' }]] } },
      { quote: 'say "hi" \\ ok', escaped: '\\"]', unicode: '한국어 🙂' },
      { empty: {}, arr: [] },
    ];
    const path = tmp.write('pretty.json', '\ufeff' + JSON.stringify(elements, null, 2) + '\n');
    const rows = await collect(readJsonArrayRecords(path));
    expect(rows.map((row) => row.record)).toEqual(elements);
    expect(rows.map((row) => row.index)).toEqual([0, 1, 2]);
    // Line of each element's opening brace in the pretty-printed text.
    const lines = JSON.stringify(elements, null, 2).split('\n');
    const starts = lines.flatMap((text, i) => (text === '  {' ? [i + 1] : []));
    expect(rows.map((row) => row.line)).toEqual(starts);
  });

  it('reads compact and empty arrays', async () => {
    expect(await collect(readJsonArrayRecords(tmp.write('compact.json', '[{"a":1},{"a":[2]}]')))).toEqual([
      { index: 0, line: 1, record: { a: 1 } },
      { index: 1, line: 1, record: { a: [2] } },
    ]);
    expect(await collect(readJsonArrayRecords(tmp.write('empty.json', ' [ \n ] \n')))).toEqual([]);
  });

  it('streams a large array across many chunks', async () => {
    const path = join(tmp.dir, 'large.json');
    const out = createWriteStream(path);
    out.write('[\n');
    for (let i = 0; i < 50_000; i++) out.write((i ? ',\n' : '') + JSON.stringify({ i, text: `element ${i} with ] and "quotes" and 🙂` }));
    out.write('\n]\n');
    await new Promise((resolve) => out.end(resolve));
    let count = 0;
    let last: unknown;
    for await (const row of readJsonArrayRecords(path)) {
      count++;
      last = row;
    }
    expect(count).toBe(50_000);
    expect(last).toEqual({ index: 49_999, line: 50_001, record: { i: 49_999, text: 'element 49999 with ] and "quotes" and 🙂' } });
  });

  it('keeps escapes intact when strings cross read-chunk boundaries', async () => {
    // Escaped quotes, backslashes and brackets land on chunk boundaries at varied phases.
    const elements = Array.from({ length: 6 }, (_, k) => ({ k, text: 'x'.repeat(k) + 'a\\"]},['.repeat(150_000) }));
    const path = tmp.write('escapes.json', '[' + elements.map((element) => JSON.stringify(element)).join(',') + ']');
    const rows = await collect(readJsonArrayRecords(path));
    expect(rows.map((row) => row.record)).toEqual(elements);
  });

  it.each([
    ['not an array', '{"a":1}', 'expected a JSON array at the top level, got "{"', 1],
    ['empty file', '\n\n', 'expected a JSON array, the file is empty', 3],
    ['scalar element', '[\n{"a":1},\n42\n]', 'expected a JSON object, got number', 3],
    ['nested array element', '[\n[{"a":1}]\n]', 'expected a JSON object, got array', 2],
    ['truncated', '[\n{"a":1},\n{"a":\n', 'unexpected end of file: the JSON array is not closed', 3],
    ['trailing comma', '[\n{"a":1},\n]', 'expected a value after "," (trailing comma)', 3],
    ['data after the array', '[{"a":1}]\n\nx', 'unexpected "x" after the end of the JSON array', 3],
    ['stray brace', '[\n{"a":1}}\n]', 'unexpected "}"', 2],
  ])('reports %s with its line', async (_name, content, message, line) => {
    const path = tmp.write('bad.json', content);
    const error = await inputError(readJsonArrayRecords(path));
    expect(error.code).toBe('input');
    expect(error.message).toBe(message);
    expect(error.context).toEqual({ file: path, line });
  });

  it('reports bad JSON inside an element at the element line', async () => {
    const path = tmp.write('bad-element.json', '[\n{"a":1},\n{"a": tru}\n]');
    const error = await inputError(readJsonArrayRecords(path));
    expect(error.message).toMatch(/^invalid JSON: /);
    expect(error.context).toEqual({ file: path, line: 3 });
  });

  it('turns a missing file into an input error', async () => {
    const path = join(tmp.dir, 'missing.json');
    const error = await inputError(readJsonArrayRecords(path));
    expect(error.message).toBe(`cannot read ${path}: ENOENT`);
  });
});
