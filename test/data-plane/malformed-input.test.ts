/** Malformed datasets: prepare exits 1 naming file:line, and leaves no shard behind to submit. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCapture } from '../helpers/cli.js';
import { expectNoStack, jsonlFilesUnder, makeTempDir, openStateDb, writePipeline } from './fixtures.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

/** Many good rows before the bad one, so shards would exist if prepare did not clean up. */
function goodLines(count: number): string {
  return Array.from({ length: count }, (_, i) => `${JSON.stringify({ text: `Good row number ${i}.` })}\n`).join('');
}

function expectNothingPrepared(runDir: string): void {
  expect(jsonlFilesUnder(runDir)).toEqual([]);
  expect(existsSync(join(runDir, 'shards'))).toBe(false);
  if (existsSync(join(runDir, 'state.sqlite'))) {
    const db = openStateDb(runDir);
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM requests').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT COUNT(*) AS n FROM shards').get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT value FROM meta WHERE key = 'prepared'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  }
}

describe('malformed input', () => {
  it('JSONL with bad JSON on line 3: exit 1, file:3 named, no shard', async () => {
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, `${goodLines(2)}{"text": not json}\n${goodLines(5)}`);
    const config = writePipeline(dir, { batch: { max_requests_per_file: 1 } });
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${input}:3`);
    expect(result.stderr).not.toContain(`${input}:2`);
    expect(expectNoStack(result.stderr)).toBe(true);
    expectNothingPrepared(join(dir, 'run'));
  });

  it('JSONL: the bad line is counted after blank lines too (line 5)', async () => {
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, `${goodLines(2)}\n\n{"text": "unterminated}\n`);
    const config = writePipeline(dir, {});
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${input}:5`);
    expectNothingPrepared(join(dir, 'run'));
  });

  it('CSV with an unclosed quote: exit 1, file and line named, no shard', async () => {
    const input = join(dir, 'input.csv');
    const good = Array.from({ length: 20 }, (_, i) => `${i},Good row ${i}\n`).join('');
    // Header is line 1, rows 2..21, the broken row starts on line 22.
    writeFileSync(input, `id,text\n${good}22,"never closed\n23,after\n`);
    const config = writePipeline(dir, {
      input: { path: 'input.csv' },
      output: { path: 'out/result.{lang}.csv' },
      batch: { max_requests_per_file: 1 },
    });
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${input}:22`);
    expect(expectNoStack(result.stderr)).toBe(true);
    expectNothingPrepared(join(dir, 'run'));
  });

  it('a failed prepare over a previously good one leaves no stale shard behind', async () => {
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, goodLines(4));
    const config = writePipeline(dir, {});
    expect((await runCliCapture(['prepare', config])).code).toBe(0);
    expect(jsonlFilesUnder(join(dir, 'run'))).toHaveLength(1);
    writeFileSync(input, `${goodLines(4)}oops\n`);
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${input}:5`);
    expectNothingPrepared(join(dir, 'run'));
  });

  it('a JSONL line that is valid JSON but not an object is named with its line', async () => {
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, `${goodLines(1)}[1, 2]\n`);
    const config = writePipeline(dir, {});
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${input}:2`);
    expect(expectNoStack(result.stderr)).toBe(true);
    expectNothingPrepared(join(dir, 'run'));
  });
});
