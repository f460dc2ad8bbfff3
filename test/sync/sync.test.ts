/**
 * `mode: sync` and `mode: auto` end to end: the CLI in-process, the real
 * `openai` SDK over loopback to the emulator, which matches per-request faults
 * by the `x-transbatch-custom-id` header, adds latency and enforces rpm/tpm
 * limits with `x-ratelimit-*` headers, and records every chat call.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, waitForExit } from '../helpers/cli.js';
import { peakInFlight, readJsonl, type SyncSetup, syncSetup } from './helpers.js';

const ROWS = 12;
const REQUESTS = ROWS * 2;
let reference: Buffer;

beforeAll(async () => {
  // The same pipeline in batch mode.
  const batch = await syncSetup({ mode: 'batch' });
  try {
    const result = await batch.run();
    expect(result.code, result.stderr).toBe(0);
    expect(batch.batchesCreated()).toBeGreaterThan(1);
    expect(batch.chatEvents()).toHaveLength(0);
    reference = readFileSync(batch.output());
    expect(reference.toString('utf8').trim().split('\n')).toHaveLength(ROWS);
  } finally {
    await batch.close();
  }
});

async function withSync(options: Parameters<typeof syncSetup>[0], body: (s: SyncSetup) => Promise<void>): Promise<void> {
  const s = await syncSetup(options);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

interface RequestRow {
  custom_id: string;
  status: string;
  attempts: number;
  source: string | null;
  reason: string | null;
  detail: string | null;
}

function requests(s: SyncSetup): RequestRow[] {
  const db = new Database(join(s.dir, 'run', 'state.sqlite'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT r.custom_id, COALESCE(o.status, 'queued') AS status, r.attempts + COALESCE(s.counted, 0) AS attempts, o.source, o.reason, o.detail
         FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id LEFT JOIN shards s ON s.number = r.shard ORDER BY r.id`,
      )
      .all() as RequestRow[];
  } finally {
    db.close();
  }
}

function shardStatuses(s: SyncSetup): string[] {
  const db = new Database(join(s.dir, 'run', 'state.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT status FROM shards').all() as { status: string }[]).map((row) => row.status);
  } finally {
    db.close();
  }
}

function expectExactOutput(s: SyncSetup): void {
  const actual = readFileSync(s.output());
  expect(actual.toString('utf8')).toBe(reference.toString('utf8'));
  expect(actual.equals(reference)).toBe(true);
  expect(readFileSync(s.rejects(), 'utf8')).toBe('');
}

describe.concurrent('mode: sync', () => {
  it('writes output byte-identical to batch mode, one direct call per request, no batch', async () => {
    await withSync({}, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      expect(s.chatEvents()).toHaveLength(REQUESTS);
      expect(s.chatEvents(200)).toHaveLength(REQUESTS);
      expect(s.batchesCreated()).toBe(0);
      expect(s.emulator.events.filter((e) => e.type === 'file.created')).toHaveLength(0);
      const rows = requests(s);
      expect(rows).toHaveLength(REQUESTS);
      for (const row of rows) expect(row).toMatchObject({ status: 'done', attempts: 1, source: 'sync' });
      expect(shardStatuses(s).every((status) => status === 'collected')).toBe(true);
      // A finished run does nothing the second time.
      const again = await s.run();
      expect(again.code, again.stderr).toBe(0);
      expect(s.chatEvents()).toHaveLength(REQUESTS);
    });
  });

  it('absorbs a 429 storm (Retry-After 1): exact output, requests + storm calls, no attempt burnt', async () => {
    const storm = 6;
    await withSync(
      { faults: { http: [{ route: 'POST /v1/chat/completions', status: 429, retry_after_seconds: 1, times: storm }] } },
      async (s) => {
        const started = Date.now();
        const result = await s.run();
        expect(result.code, result.stderr).toBe(0);
        expectExactOutput(s);
        expect(s.chatEvents()).toHaveLength(REQUESTS + storm);
        expect(s.chatEvents(429)).toHaveLength(storm);
        expect(s.chatEvents(200)).toHaveLength(REQUESTS);
        for (const row of requests(s)) expect(row.attempts).toBe(1);
        // Retry-After paused the sender at least once for a second.
        expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      },
    );
  });

  it('absorbs 500s: exact output, requests + storm calls', async () => {
    const storm = 6;
    await withSync({ faults: { http: [{ route: 'POST /v1/chat/completions', status: 500, times: storm }] } }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      expect(s.chatEvents()).toHaveLength(REQUESTS + storm);
      expect(s.chatEvents(200)).toHaveLength(REQUESTS);
      for (const row of requests(s)) expect(row.attempts).toBe(1);
    });
  });

  it('rejects a request that always answers 400 (exit 2, http_400, one attempt) and keeps the rest', async () => {
    // r3.c0 = row 3's title; the emulator matches the x-transbatch-custom-id header against its per-request faults.
    const faults = { requests: [{ custom_id: '^r3\\.c0\\.ko\\.k0$', kind: 'error' as const, status: 400 as const }] };
    await withSync({ faults }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(2);
      const rejects = readJsonl<{ row_index: number; failures: { field: string; reason: string; detail: string }[] }>(s.rejects());
      expect(rejects).toHaveLength(1);
      expect(rejects[0]!.row_index).toBe(3);
      expect(rejects[0]!.failures[0]).toMatchObject({ field: 'title', reason: 'http_400' });
      const row = requests(s).find((r) => r.custom_id === 'r3.c0.ko.k0')!;
      expect(row).toMatchObject({ status: 'rejected', reason: 'http_400', attempts: 1 });
      expect(s.calls().filter((call) => call.customId === 'r3.c0.ko.k0')).toHaveLength(1);
      expect(readJsonl(s.output())).toHaveLength(ROWS - 1);
    });
  });

  it('retries failed answers in rounds up to retry.max_attempts, then rejects with the attempt count', async () => {
    // Always truncated: not_truncated retries it, then it is rejected after 3 attempts.
    const faults = { requests: [{ custom_id: '^r5\\.c1\\.ko\\.k0$', kind: 'truncate' as const }] };
    await withSync({ faults }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(2);
      const row = requests(s).find((r) => r.custom_id === 'r5.c1.ko.k0')!;
      expect(row).toMatchObject({ status: 'rejected', attempts: 3 });
      expect(row.detail).toContain('(after 3 attempts)');
      expect(s.calls().filter((call) => call.customId === 'r5.c1.ko.k0')).toHaveLength(3);
      expect(s.chatEvents()).toHaveLength(REQUESTS + 2);
    });
  });

  it('recovers when truncated once: second round answers it, exact output', async () => {
    const faults = { requests: [{ custom_id: '^r(1|7)\\.c0\\.ko\\.k0$', kind: 'truncate' as const, times: 1 }] };
    await withSync({ faults }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      expect(s.chatEvents(200)).toHaveLength(REQUESTS + 2);
      expect(
        requests(s)
          .filter((r) => r.attempts === 2)
          .map((r) => r.custom_id),
      ).toEqual(['r1.c0.ko.k0', 'r7.c0.ko.k0']);
    });
  });

  it('resumes after Ctrl-C with only the missing requests: each answer paid once', async () => {
    await withSync({ latencyMs: 30, sync: '{concurrency: 2}' }, async (s) => {
      const controller = new AbortController();
      const off = s.emulator.on((event) => {
        if (event.type === 'http' && event.path === '/v1/chat/completions' && event.status === 200 && s.chatEvents(200).length >= 7) {
          controller.abort();
        }
      });
      const first = await s.run(controller.signal);
      off();
      expect(first.code, first.stderr).toBe(3);
      const answeredBefore = s.chatEvents(200).length;
      expect(answeredBefore).toBeGreaterThanOrEqual(7);
      expect(answeredBefore).toBeLessThan(REQUESTS);
      // Everything answered before the stop was recorded.
      expect(requests(s).filter((r) => r.status === 'done')).toHaveLength(answeredBefore);

      const second = await s.run();
      expect(second.code, second.stderr).toBe(0);
      expectExactOutput(s);
      expect(s.chatEvents(200)).toHaveLength(REQUESTS);
      const perId = new Map<string, number>();
      for (const call of s.calls()) if (call.status === 200) perId.set(call.customId!, (perId.get(call.customId!) ?? 0) + 1);
      expect(perId.size).toBe(REQUESTS);
      expect([...perId.values()].every((n) => n === 1)).toBe(true);
      for (const row of requests(s)) expect(row.attempts).toBe(1);
    });
  });

  it('resumes after SIGKILL: at most the unrecorded window is sent again', async () => {
    await withSync({ latencyMs: 20, sync: '{concurrency: 2}' }, async (s) => {
      const child = spawnCli(['run', s.config], { env: s.env, cwd: s.dir });
      const exit = waitForExit(child);
      const off = s.emulator.on((event) => {
        if (event.type === 'http' && event.path === '/v1/chat/completions' && s.chatEvents(200).length >= 10) child.kill('SIGKILL');
      });
      const killed = await exit;
      off();
      expect(killed.signal).toBe('SIGKILL');
      const second = await s.run();
      expect(second.code, second.stderr).toBe(0);
      expectExactOutput(s);
      const perId = new Map<string, number>();
      for (const call of s.calls()) if (call.status === 200) perId.set(call.customId!, (perId.get(call.customId!) ?? 0) + 1);
      expect(perId.size).toBe(REQUESTS);
      // Lost on the kill: the answers in flight plus those not yet flushed (200 ms at ~2 per 20 ms).
      const resent = [...perId.values()].filter((n) => n > 1).length;
      expect(resent).toBeLessThanOrEqual(2 + 20);
    });
  });

  it('never has more than sync.concurrency calls in flight', async () => {
    await withSync({ latencyMs: 40, sync: '{concurrency: 4}' }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      // From the emulator's recorded intervals: the limit is reached and never exceeded.
      expect(peakInFlight(s.calls())).toBe(4);
    });
  });

  it('spreads calls within sync.rpm', async () => {
    // 600 rpm = 10/s with a one-second bucket: 10 at once, then one every 100 ms.
    await withSync({ sync: '{concurrency: 16, rpm: 600}' }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      const starts = s
        .calls()
        .map((call) => call.start)
        .sort((a, b) => a - b);
      // Starts are when the emulator received each call: a loaded machine can delay the first burst by a few
      // hundred ms, which shortens the measured spread; without the limit it would be well under 200 ms.
      expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual((REQUESTS - 10) * 100 - 400);
    });
  });

  it('spreads calls within sync.tpm (input + expected output tokens per request)', async () => {
    // 120k tpm = 2000 tokens/s with a one-second bucket; each request costs about 195 tokens.
    await withSync({ sync: '{concurrency: 16, tpm: 120000}' }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      const db = new Database(join(s.dir, 'run', 'state.sqlite'), { readonly: true });
      const { tokens } = db.prepare('SELECT SUM(input_tokens + expected_output_tokens) AS tokens FROM requests').get() as {
        tokens: number;
      };
      db.close();
      const starts = s
        .calls()
        .map((call) => call.start)
        .sort((a, b) => a - b);
      // Everything above the first second's bucket waits for the refill.
      expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(((tokens - 2000 - 400) / 2000) * 1000);
    });
  });

  it('stops promptly on Ctrl-C during a 429 pause and resumes to the exact output', async () => {
    await withSync(
      { faults: { http: [{ route: 'POST /v1/chat/completions', status: 429, retry_after_seconds: 30, times: 1 }] } },
      async (s) => {
        const controller = new AbortController();
        const off = s.emulator.on((event) => {
          if (event.type === 'fault') setTimeout(() => controller.abort(), 100);
        });
        const started = Date.now();
        const first = await s.run(controller.signal);
        off();
        expect(first.code, first.stderr).toBe(3);
        expect(Date.now() - started).toBeLessThan(10_000);
        const second = await s.run();
        expect(second.code, second.stderr).toBe(0);
        expectExactOutput(s);
        expect(s.chatEvents(200)).toHaveLength(REQUESTS);
      },
    );
  });

  it('a refused API key stops the run with exit 1 and no key in the message', async () => {
    await withSync({}, async (s) => {
      s.env['OPENAI_API_KEY'] = 'sk-wrong-key-123456';
      const result = await s.run();
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/refused the API key|401/);
      expect(result.stderr + result.stdout).not.toContain('sk-wrong-key-123456');
      expect(s.chatEvents(401).length).toBeLessThanOrEqual(4);
    });
  });

  it('pauses every sender when x-ratelimit-remaining-requests hits 0, until x-ratelimit-reset-requests', async () => {
    // The emulator allows 3 requests per 1 s window: the 3rd answer says remaining 0, reset "1s".
    await withSync({ limits: { rpm: 3, rateWindowMs: 1000 }, sync: '{concurrency: 1}' }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectExactOutput(s);
      const calls = [...s.calls()].sort((a, b) => a.start - b.start);
      expect(calls[3]!.start - calls[2]!.end).toBeGreaterThanOrEqual(900);
      // The sender waited for the reset instead of running into the limit.
      expect(s.chatEvents(429)).toHaveLength(0);
    });
  });
});

describe.concurrent('mode: auto', () => {
  it('uses direct calls when fewer requests than batch.min_requests are left', async () => {
    await withSync({ mode: 'auto', rows: 5, fields: ['title'], minRequests: 100 }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expect(s.batchesCreated()).toBe(0);
      expect(s.chatEvents(200)).toHaveLength(5);
      expect(readJsonl(s.output())).toHaveLength(5);
    });
  });

  it('uses the Batch API when at least batch.min_requests are left', async () => {
    await withSync({ mode: 'auto', rows: 5, fields: ['title'], minRequests: 1 }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expect(s.batchesCreated()).toBeGreaterThan(0);
      expect(s.chatEvents()).toHaveLength(0);
      expect(readJsonl(s.output())).toHaveLength(5);
    });
  });
});
