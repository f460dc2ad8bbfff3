import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchLinePrefix } from '../../src/build/request.js';
import type { ShardWriter } from '../../src/build/shards.js';
import { PrepareWriter } from '../../src/state/prepare-writer.js';
import { RunState, requestText } from '../../src/state/run-state.js';

const keyOf = (n: number) => createHash('sha256').update(`text ${n}`).digest().subarray(0, 16);
/** The key as prepare hands it over: a binary string. */
const binaryKeyOf = (n: number) => keyOf(n).toString('latin1');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function request(n: number, text = `text ${n} «é» "q"\n`) {
  return { customId: `r${n}.c0.ko.k0`, key: binaryKeyOf(n), row: n, text, tokens: { input: 10 + n, output: 20 + n } };
}

const HEAD = Buffer.from('{"model":"m","messages":[{"role":"user","content":');
const SUFFIX = Buffer.from('}]}}');

/** Queues request `n` with its line in `shards`, the way prepare does. */
function queue(writer: PrepareWriter, shards: ShardWriter, n: number, options: { lineText?: string } = {}): number {
  const r = request(n);
  const content = JSON.stringify(options.lineText ?? r.text);
  const shard = shards.add({ prefix: batchLinePrefix(r.customId), head: HEAD, content, suffix: SUFFIX }, r.tokens.input, `row ${n}`);
  return writer.queued(r, shard, options.lineText === undefined);
}

/** Files under the run's shards dir this process has open (Linux). */
function openShardFiles(runDir: string): string[] {
  const fds = readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
  return fds.filter((path) => path.startsWith(join(runDir, 'shards')));
}

function openRun() {
  const runDir = mkdtempSync(join(tmpdir(), 'tb-writer-'));
  dirs.push(runDir);
  return { runDir, state: RunState.open(runDir) };
}

describe('PrepareWriter (shard files and run-state writes on a worker thread)', () => {
  it('writes every request, unit and shard; custom_ids and texts come from the lines; keys read back before and after commit', async () => {
    const { runDir, state } = openRun();
    try {
      const writer = new PrepareWriter(state, runDir);
      const closed: number[] = [];
      const shards = writer.shards(join(runDir, 'shards'), { maxRequests: 10_000, maxBytes: 1e9 }, (shard) => closed.push(shard.number));
      const ids: number[] = [];
      for (let n = 0; n < 20_001; n++) {
        if (n === 7) ids.push(writer.cached(request(n), { content: 'cached', finishReason: 'stop' }));
        else ids.push(queue(writer, shards, n, n === 12_345 ? { lineText: 'templated 12345' } : {}));
        writer.unit(n, 0, n % 2 ? 'ja' : 'ko', 0, ids[n]!, n === 3 ? 'instruction' : null);
        // The newest request is in no committed batch yet; the first ones are.
        expect(writer.keyOf(ids[n]!)).toBe(binaryKeyOf(n));
        await writer.flush();
      }
      expect(writer.keyOf(ids[0]!)).toBe(binaryKeyOf(0));
      expect(writer.keyOf(ids[19_999]!)).toBe(binaryKeyOf(19_999));
      expect(writer.keyOf(ids[20_000]! + 1)).toBeUndefined();
      shards.close();
      await writer.finish();

      expect(ids).toEqual(Array.from({ length: 20_001 }, (_, n) => n + 1));
      expect(closed).toEqual([1, 2]);
      expect(state.db.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(20_001);
      const stored = state.db
        .prepare('SELECT custom_id, row, text, input_tokens, shard, text_shard, text_at, text_bytes FROM requests WHERE id = 12001')
        .get() as { text_at: number; text_bytes: number };
      // The text stays in the shard file, as its line's content: the state says where.
      expect(stored).toMatchObject({ custom_id: 'r12000.c0.ko.k0', row: 12000, text: '', input_tokens: 12010, shard: 2, text_shard: 2 });
      const literal = readFileSync(join(runDir, 'shards', 'shard-00002.jsonl')).subarray(
        stored.text_at,
        stored.text_at + stored.text_bytes,
      );
      expect(literal.toString()).toBe(JSON.stringify(request(12000).text));
      expect(state.requestByCustomId('r12000.c0.ko.k0')?.text).toBe(request(12000).text);
      expect(state.requestTextOf(12001)).toBe(request(12000).text);
      // A page of a shard's requests is read from the file in one go; each row has its own text.
      const page = state.shardRequestsAfter(2, 12000, 3);
      expect(page.map((row) => [row.id, requestText(row.text)])).toEqual([
        [12001, request(12000).text],
        [12002, request(12001).text],
        [12003, request(12002).text],
      ]);
      expect(state.shardRequestsAfter(1, 0, 10_000).map((row) => requestText(row.text))).toEqual(
        Array.from({ length: 10_001 }, (_, n) => request(n).text).filter((_, n) => n !== 7),
      );
      // A text that is not its line's content (a user template) is sent along; the custom_id still comes from the line.
      expect(state.db.prepare('SELECT custom_id, text, text_shard FROM requests WHERE id = 12346').get()).toEqual({
        custom_id: 'r12345.c0.ko.k0',
        text: request(12345).text,
        text_shard: null,
      });
      expect(state.db.prepare('SELECT custom_id, text, shard, text_shard FROM requests WHERE id = 8').get()).toEqual({
        custom_id: 'r7.c0.ko.k0',
        text: request(7).text,
        shard: null,
        text_shard: null,
      });
      expect(state.requestTextOf(8)).toBe(request(7).text);
      expect(state.requestKey(12346)).toEqual(keyOf(12345));
      expect(state.requestCounts()).toMatchObject({ queued: 20_000, done: 1 });
      expect(state.db.prepare('SELECT row, lang, request_id, pack_key FROM units WHERE row IN (3, 4) ORDER BY row').all()).toEqual([
        { row: 3, lang: 'ja', request_id: 4, pack_key: 'instruction' },
        { row: 4, lang: 'ko', request_id: 5, pack_key: null },
      ]);

      const rows = state.shards();
      expect(rows.map((shard) => [shard.number, shard.lines, shard.status])).toEqual([
        [1, 10_000, 'built'],
        [2, 10_000, 'built'],
      ]);
      for (const shard of rows) {
        const bytes = readFileSync(shard.path);
        expect(bytes.length).toBe(shard.bytes);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(shard.sha256);
      }
      const first = readFileSync(rows[0]!.path, 'utf8').split('\n')[0]!;
      expect(JSON.parse(first)).toEqual({
        custom_id: 'r0.c0.ko.k0',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm', messages: [{ role: 'user', content: request(0).text }] },
      });
      // Retried in a later shard, a request still reads its text where prepare left it.
      state.insertShard({
        number: 3,
        path: join(runDir, 'shards', 'shard-00003.jsonl'),
        attempt: 2,
        lines: 2,
        bytes: 1,
        inputTokens: 1,
        sha256: '',
      });
      state.requeue(12001, 3);
      state.requeue(5, 3);
      expect(state.shardRequestsAfter(3, 0, 10).map((row) => [row.id, requestText(row.text)])).toEqual([
        [5, request(4).text],
        [12001, request(12000).text],
      ]);
    } finally {
      state.close();
    }
  });

  it('a failed write (a duplicate custom_id) surfaces as an error in the main thread', async () => {
    const { runDir, state } = openRun();
    try {
      const writer = new PrepareWriter(state, runDir);
      const shards = writer.shards(join(runDir, 'shards'), { maxRequests: 100, maxBytes: 1e9 }, () => {});
      queue(writer, shards, 1);
      queue(writer, shards, 1);
      shards.close();
      await expect(writer.finish()).rejects.toThrow(/UNIQUE constraint failed: requests.custom_id/);
      await writer.abort();
    } finally {
      state.close();
    }
  });

  it('abort stops the worker after what it was sent, with its shard file closed', async () => {
    const { runDir, state } = openRun();
    try {
      const writer = new PrepareWriter(state, runDir);
      const shards = writer.shards(join(runDir, 'shards'), { maxRequests: 100_000, maxBytes: 1e9 }, () => {});
      for (let n = 0; n < 9000; n++) queue(writer, shards, n);
      await writer.flush();
      // The worker has the shard open once it has taken the batch.
      await vi.waitFor(() => expect(openShardFiles(runDir)).toEqual([join(runDir, 'shards', 'shard-00001.jsonl')]), { timeout: 10_000 });
      await writer.abort();
      expect(openShardFiles(runDir)).toEqual([]);
      expect(state.db.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(9000);
      expect(state.shards()).toEqual([]);
    } finally {
      state.close();
    }
  });
});
