import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShardRequests, WINDOW_ROWS } from '../../src/collect/shard-requests.js';
import { RunState } from '../../src/state/run-state.js';

const SHARD_1 = 3 * WINDOW_ROWS + 17;
let dir: string;
let state: RunState;

const customId = (id: number) => `req-${id}`;
// Odd ids store their text as a JSON literal BLOB (as prepare does), even ones as TEXT.
const textOf = (id: number) => `text "${id}"\n`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tb-shard-requests-'));
  state = RunState.open(dir);
  const insert = state.db.prepare(
    'INSERT INTO requests (id, custom_id, hash, row, text, input_tokens, expected_output_tokens, shard) VALUES (?, ?, ?, ?, ?, 1, 1, ?)',
  );
  state.transaction(() => {
    for (let id = 1; id <= SHARD_1 + 10; id++) {
      const text = id % 2 ? Buffer.from(JSON.stringify(textOf(id))) : textOf(id);
      insert.run(id, customId(id), Buffer.alloc(16, id % 256), id, text, id <= SHARD_1 ? 1 : 2);
    }
    for (const number of [1, 2]) {
      state.insertShard({ number, path: `s${number}`, attempt: 1, lines: 1, bytes: 1, inputTokens: 1, sha256: '-' });
    }
  });
});

afterEach(() => {
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Takes every id in `order` and returns what was found, checking each row. */
function takeAll(order: number[], requests = new ShardRequests(state, 1)): number {
  let lookups = 0;
  for (const id of order) {
    const row = requests.take(customId(id), () => lookups++);
    expect(row).toMatchObject({ id, custom_id: customId(id), text: textOf(id), status: 'queued', shard: 1, attempts: 0 });
    expect(requests.held).toBeLessThanOrEqual(WINDOW_ROWS);
  }
  return lookups;
}

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('ShardRequests', () => {
  it('finds in-order lines among the rows read ahead, without a lookup each', () => {
    expect(takeAll(ids(1, SHARD_1))).toBe(0);
  });

  it('finds every request in any order, looking up those outside the window', () => {
    const reversed = ids(1, SHARD_1).reverse();
    expect(takeAll(reversed)).toBeGreaterThan(0);
    // Every 7th line missing from the output (in the error file, read after it).
    const requests = new ShardRequests(state, 1);
    const gaps = ids(1, SHARD_1).filter((id) => id % 7 !== 0);
    expect(takeAll(gaps, requests)).toBe(0);
    takeAll(
      ids(1, SHARD_1).filter((id) => id % 7 === 0),
      requests,
    );
  });

  it("returns a duplicate's request as stored, and another shard's or an unknown id's for the caller to ignore", () => {
    const requests = new ShardRequests(state, 1);
    takeAll([1, 2], requests);
    state.recordOutcome(1, { kind: 'done', content: 'x', finishReason: 'stop', promptTokens: 1, completionTokens: 1, source: 'batch' });
    let lookups = 0;
    expect(requests.take(customId(1), () => lookups++)).toMatchObject({ id: 1, status: 'done' });
    expect(requests.take(customId(SHARD_1 + 1), () => lookups++)).toMatchObject({ id: SHARD_1 + 1, shard: 2 });
    expect(requests.take('req-none', () => lookups++)).toBeUndefined();
    expect(lookups).toBe(3);
    // Reading ahead for those misses lost nothing.
    takeAll(ids(3, SHARD_1), requests);
  });
});
