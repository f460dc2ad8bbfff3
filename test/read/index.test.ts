import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/read/fingerprint.js';
import { readRecords } from '../../src/read/index.js';
import { collect, tempFolder } from './helpers.js';

const tmp = tempFolder('tb-read-');
afterAll(tmp.cleanup);

describe('readRecords', () => {
  it.each([
    ['csv', 'a,b\n1,2\n'],
    ['jsonl', '{"a":"1","b":"2"}\n'],
    ['json', '[{"a":"1","b":"2"}]'],
  ] as const)('dispatches %s', async (format, content) => {
    const path = tmp.write(`data.${format}`, content);
    expect((await collect(readRecords(path, format))).map((row) => row.record)).toEqual([{ a: '1', b: '2' }]);
  });
});

describe('sha256File', () => {
  it('hashes the file bytes', async () => {
    const content = Buffer.from('x'.repeat(3 << 20) + 'é');
    const path = tmp.write('blob.bin', content);
    expect(await sha256File(path)).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('reports a missing file as an input error', async () => {
    await expect(sha256File(`${tmp.dir}/nope`)).rejects.toMatchObject({ code: 'input', context: { file: `${tmp.dir}/nope` } });
  });
});
