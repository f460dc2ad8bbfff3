import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from '../../src/block-io.js';
import { type LineBlock, readLineBlocks, readLineBlocksSync } from '../../src/read/lines.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tb-lines-'));
  dirs.push(dir);
  const path = join(dir, 'lines.jsonl');
  writeFileSync(path, content);
  return path;
}

type Reader = (path: string) => AsyncIterable<LineBlock> | Iterable<LineBlock>;

/** Every line with its number, each block's lines taken before the next block is asked for (they are valid until then). */
async function readAllWith(read: Reader, path: string): Promise<[number, string][]> {
  const lines: [number, string][] = [];
  for await (const block of read(path)) {
    for (let index = 0; index < block.count; index++) lines.push([block.first + index, block.line(index)]);
  }
  return lines;
}

/** What `split('\n')` gives, one trailing `\r` dropped from each line. */
const expected = (content: string): [number, string][] => content.split('\n').map((line, index) => [index + 1, line.replace(/\r$/, '')]);

// The JSONL reader and the emulator read asynchronously; collect synchronously, inside its transaction.
describe.each([
  ['readLineBlocks', readLineBlocks],
  ['readLineBlocksSync', readLineBlocksSync],
] as [string, Reader][])('%s (lines of a file, a block per read)', (_name, read) => {
  const readAll = (path: string) => readAllWith(read, path);

  it('cuts lines across reads: lines longer than a read, reads without a newline, CRLF, non-ASCII at the cuts', async () => {
    // Line lengths chosen so that cuts fall inside lines, right after a newline, and inside a multi-byte character.
    const lengths = [10, BLOCK_BYTES - 12, 1, 3 * BLOCK_BYTES + 5, 0, 700, BLOCK_BYTES, 2, BLOCK_BYTES * 2 - 1, 33];
    const content = lengths
      .map((length, index) => {
        const body = 'é⟦'.repeat(Math.floor(length / 5)) + 'x'.repeat(length % 5);
        return index % 3 === 0 ? `${body}\r` : body;
      })
      .join('\n');
    expect(await readAll(file(content))).toEqual(expected(content));
    // A final newline ends the last line; it does not start another.
    expect(await readAll(file(`${content}\n`))).toEqual(expected(content));
  });

  it('an empty file, a lone newline, a file of one line without newline', async () => {
    expect(await readAll(file(''))).toEqual([]);
    expect(await readAll(file('\n'))).toEqual([[1, '']]);
    expect(await readAll(file('{"a":1}'))).toEqual([[1, '{"a":1}']]);
  });

  it('many short lines over many reads keep their numbers', async () => {
    const content = Array.from({ length: 200_000 }, (_, index) => `{"n":${index}}`).join('\n');
    const lines = await readAll(file(content));
    expect(lines.length).toBe(200_000);
    expect(lines[123_456]).toEqual([123_457, '{"n":123456}']);
    expect(lines.every(([number, text]) => text === `{"n":${number - 1}}`)).toBe(true);
  });
});
