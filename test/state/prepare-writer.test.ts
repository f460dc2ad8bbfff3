import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PrepareWriter } from '../../src/state/prepare-writer.js';
import { RunState } from '../../src/state/run-state.js';

const keyOf = (n: number) => createHash('sha256').update(`text ${n}`).digest().subarray(0, 16);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function request(n: number) {
  return { customId: `r${n}.c0.ko.k0`, hash: keyOf(n), row: n, text: `text ${n}`, tokens: { input: 10 + n, output: 20 + n } };
}

describe('PrepareWriter (run-state writes on a worker thread)', () => {
  it('writes every request, unit and shard; keys read back before and after their batch is committed', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'tb-writer-'));
    dirs.push(runDir);
    const state = RunState.open(runDir);
    try {
      const writer = new PrepareWriter(state, runDir);
      const ids: number[] = [];
      for (let n = 0; n < 20_000; n++) {
        ids.push(writer.request(request(n), 1 + Math.floor(n / 10_000), n === 7 ? { content: 'cached', finishReason: 'stop' } : null));
        writer.unit(n, 0, 'ko', 0, ids[n]!);
        // The newest request is not in any committed batch yet; the first ones are.
        expect(writer.keyOf(ids[n]!)).toEqual(keyOf(n));
        await writer.flush();
      }
      expect(writer.keyOf(ids[0]!)).toEqual(keyOf(0));
      writer.shard({ number: 1, path: 'shards/shard-00001.jsonl', lines: 10_000, bytes: 1, inputTokens: 1, sha256: 'x' });
      await writer.finish();

      expect(ids).toEqual(Array.from({ length: 20_000 }, (_, n) => n + 1));
      expect(state.db.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(20_000);
      expect(state.db.prepare('SELECT COUNT(*) FROM units').pluck().get()).toBe(20_000);
      expect(state.db.prepare('SELECT custom_id, row, text, input_tokens, shard FROM requests WHERE id = 12346').get()).toEqual({
        custom_id: 'r12345.c0.ko.k0',
        row: 12345,
        text: 'text 12345',
        input_tokens: 12355,
        shard: 2,
      });
      expect(state.requestKey(12346)).toEqual(keyOf(12345));
      expect(state.requestCounts()).toMatchObject({ queued: 19_999, done: 1 });
      expect(state.shards().map((shard) => [shard.number, shard.lines, shard.status])).toEqual([[1, 10_000, 'built']]);
    } finally {
      state.close();
    }
  });

  it('a failed write (a duplicate custom_id) surfaces as an error in the main thread', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'tb-writer-'));
    dirs.push(runDir);
    const state = RunState.open(runDir);
    try {
      const writer = new PrepareWriter(state, runDir);
      writer.request(request(1), 1, null);
      writer.request(request(1), 1, null);
      await expect(writer.finish()).rejects.toThrow(/UNIQUE constraint failed: requests.custom_id/);
      await writer.abort();
    } finally {
      state.close();
    }
  });
});
