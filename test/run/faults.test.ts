/**
 * `transbatch run` end to end against the emulator with each fault of its
 * plan: the CLI (in-process, the real `openai` SDK over loopback HTTP) must
 * absorb transient faults with an output byte-identical to a clean run,
 * resubmit or retry what the API says to, and reject what cannot succeed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultPlan } from '../../src/emulator/index.js';
import {
  batchesCreated,
  expectEachContentCreatedOnce,
  expectKeyNowhere,
  expectSameOutputs,
  type ProjectOptions,
  readJsonl,
  referenceOutputs,
  type Setup,
  setup,
} from './harness.js';

const OPTIONS: ProjectOptions = { rows: 12, langs: ['ko'], maxRequestsPerFile: 5 };
let reference: Map<string, Buffer>;

beforeAll(async () => {
  reference = await referenceOutputs(OPTIONS);
});

/** Runs `body` on a fresh emulator + project, then checks the key leaked nowhere, and cleans up. */
async function withSetup(faults: FaultPlan, body: (s: Setup) => Promise<void>, options: ProjectOptions = OPTIONS): Promise<void> {
  const s = await setup(faults, options);
  try {
    await body(s);
    expectKeyNowhere(s);
  } finally {
    await s.close();
  }
}

function faultEvents(s: Setup, fault: string, path?: RegExp): number {
  return s.emulator.events.filter((e) => e.type === 'fault' && e.fault === fault && (!path || path.test(`${e.method} ${e.path}`))).length;
}

const ROUTES = ['POST /v1/files', 'POST /v1/batches', 'GET /v1/batches/{id}', 'GET /v1/files/{id}/content'];

/** A storm longer than the SDK's default 2 retries on every call the run makes. */
function storm(status: 429 | 500, times: number): FaultPlan {
  return { http: ROUTES.map((route) => ({ route, status, times, ...(status === 429 ? { retry_after_seconds: 0 } : {}) })) };
}

describe.concurrent('run with injected faults', () => {
  it('absorbs a 429 storm on uploads, creates, retrieves and downloads', async () => {
    await withSetup(storm(429, 4), async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      // Every storm actually hit (4 faults on each of the 4 routes).
      for (const route of [
        /^POST \/v1\/files$/,
        /^POST \/v1\/batches$/,
        /^GET \/v1\/batches\/[^/]+$/,
        /^GET \/v1\/files\/[^/]+\/content$/,
      ]) {
        expect(faultEvents(s, 'http 429', route)).toBe(4);
      }
      expectEachContentCreatedOnce(s.emulator.events);
    });
  });

  it('waits out a poll outage longer than the SDK retries (12 × 429 on GET /v1/batches/{id})', async () => {
    await withSetup({ http: [{ route: 'GET /v1/batches/{id}', status: 429, retry_after_seconds: 0, times: 12 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/could not poll batch .*trying again at the next poll/);
      expectSameOutputs(s.project, reference);
      expect(faultEvents(s, 'http 429')).toBe(12);
    });
  });

  // One route per test (they run concurrently): the SDK's 500 backoff is 0.5 s, 1 s, 2 s…
  it.each(ROUTES)('absorbs a 500 storm on %s', async (route) => {
    await withSetup({ http: [{ route, status: 500, times: 3 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      expect(faultEvents(s, 'http 500')).toBe(3);
      expectEachContentCreatedOnce(s.emulator.events);
    });
  });

  it('re-creates a batch failed with token_limit_exceeded from the same input file', async () => {
    await withSetup({ batches: [{ match: { nth: 1 }, outcome: 'token_limit_exceeded' }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      const created = batchesCreated(s.emulator.events);
      const first = created[0]!;
      const again = created.filter((event) => event.inputFileId === first.inputFileId);
      expect(again).toHaveLength(2);
      // Not re-uploaded: one file per shard content.
      const uploads = s.emulator.events.filter((e) => e.type === 'file.created' && e.purpose === 'batch');
      expect(new Set(uploads.map((e) => (e.type === 'file.created' ? e.sha256 : ''))).size).toBe(uploads.length);
      expect(s.emulator.events.some((e) => e.type === 'batch.status' && e.batchId === first.batchId && e.status === 'failed')).toBe(true);
    });
  });

  it('keeps the finished part of an expired batch and resends only the rest', async () => {
    await withSetup({ batches: [{ match: { nth: 1 }, outcome: 'expire', after: 2 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      const expired = batchesCreated(s.emulator.events)[0]!;
      expect(s.emulator.events.some((e) => e.type === 'batch.status' && e.batchId === expired.batchId && e.status === 'expired')).toBe(
        true,
      );

      const shardsDir = join(s.project.runDir, 'shards');
      const ids = (file: string) => readJsonl<{ custom_id: string }>(join(shardsDir, file)).map((line) => line.custom_id);
      const files = readdirSync(shardsDir).sort();
      const firstIds = ids(files[0]!);
      const answered = readJsonl<{ custom_id: string }>(join(s.project.runDir, 'downloads', `${expired.batchId}.output.jsonl`)).map(
        (l) => l.custom_id,
      );
      expect(answered).toHaveLength(2);
      const unfinished = firstIds.filter((id) => !answered.includes(id));
      // The retry shards (beyond the 5 first-attempt ones for 12 rows × 2 fields / 5) hold exactly the unfinished ids.
      const retried = files.slice(5).flatMap(ids);
      expect(retried.sort()).toEqual(unfinished.sort());
      expectEachContentCreatedOnce(s.emulator.events);
    });
  });

  it('retries per-request 500s of the first attempt', async () => {
    await withSetup({ requests: [{ custom_id: '^r[0-3]\\.', kind: 'error', status: 500, times: 1 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      // 8 requests (rows 0-3 × 2 fields) came back as errors first, so there was a retry round.
      expect(batchesCreated(s.emulator.events).length).toBeGreaterThan(5);
    });
  });

  it('retries answers truncated on the first attempt', async () => {
    await withSetup({ requests: [{ custom_id: '\\.c1\\.', kind: 'truncate', times: 1 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      expect(batchesCreated(s.emulator.events).length).toBeGreaterThan(5);
    });
  });

  it('rejects a request that always answers 400 (exit 2) and keeps every other row in order', async () => {
    await withSetup({ requests: [{ custom_id: '^r4\\.c0\\.', kind: 'error', status: 400 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(2);
      const rejects = readJsonl<{ row_index: number; failures: { field: string; reason: string }[] }>(s.project.rejects('ko'));
      expect(rejects).toHaveLength(1);
      expect(rejects[0]!.row_index).toBe(4);
      expect(rejects[0]!.failures.map((f) => f.reason)).toEqual(['http_400']);
      const expected = reference.get('ko')!.toString('utf8').split('\n');
      expected.splice(4, 1);
      expect(readFileSync(s.project.output('ko'), 'utf8')).toBe(expected.join('\n'));
      // 4xx is permanent: sent once, never retried.
      const report = JSON.parse(readFileSync(join(s.project.runDir, 'report.json'), 'utf8')) as {
        rejects_by_reason: Record<string, number>;
      };
      expect(report.rejects_by_reason).toEqual({ http_400: 1 });
    });
  });

  it('rejects a request truncated on every attempt with check:not_truncated (exit 2)', async () => {
    await withSetup({ requests: [{ custom_id: '^r7\\.c1\\.', kind: 'truncate' }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(2);
      const rejects = readJsonl<{ row_index: number; failures: { field: string; reason: string }[] }>(s.project.rejects('ko'));
      expect(rejects.map((r) => r.row_index)).toEqual([7]);
      expect(rejects[0]!.failures.map((f) => f.reason)).toEqual(['check:not_truncated']);
      expect(rejects[0]!.failures[0]!.field).toBe('body');
      const expected = reference.get('ko')!.toString('utf8').split('\n');
      expected.splice(7, 1);
      expect(readFileSync(s.project.output('ko'), 'utf8')).toBe(expected.join('\n'));
      // Sent max_attempts (3) times, not more.
      const sends = s.emulator.events.filter((e) => e.type === 'batch.created').length;
      expect(sends).toBe(5 + 2);
    });
  });

  it('keeps the finished part of a batch cancelled by someone else and resends the rest', async () => {
    await withSetup({ batches: [{ match: { nth: 2 }, outcome: 'cancel', after: 3 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      const cancelled = batchesCreated(s.emulator.events)[1]!;
      expect(s.emulator.events.some((e) => e.type === 'batch.status' && e.batchId === cancelled.batchId && e.status === 'cancelled')).toBe(
        true,
      );
      // 5 first-attempt batches + one retry batch for the 2 unprocessed requests.
      expect(batchesCreated(s.emulator.events)).toHaveLength(6);
    });
  });

  it('rejoins shuffled output lines by custom_id', async () => {
    await withSetup({ shuffle: { window: 8, seed: 7 } }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      // The emulator did shuffle: some output file is not in its input file's order.
      const downloads = join(s.project.runDir, 'downloads');
      const orders = readdirSync(downloads)
        .filter((name) => name.endsWith('.output.jsonl'))
        .map((name) => readJsonl<{ custom_id: string }>(join(downloads, name)).map((line) => line.custom_id));
      const sorted = (ids: string[]) => [...ids].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      expect(orders.some((ids) => ids.join() !== sorted(ids).join())).toBe(true);
    });
  });

  it('finishes under an enqueued-token limit that fails batches over it', async () => {
    await withSetup({ enqueued_tokens: 2_000, delay_ms_per_request: 60 }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      expect(s.emulator.events.some((e) => e.type === 'batch.status' && e.status === 'failed')).toBe(true);
      expectEachContentCreatedOnce(s.emulator.events);
    });
  });

  it('does not run a batch twice when POST /v1/batches created it but answered 500', async () => {
    await withSetup({ http: [{ route: 'POST /v1/batches', action: 'create_then_error', times: 2 }] }, async (s) => {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      expect(faultEvents(s, 'create_then_error')).toBe(2);
      expectEachContentCreatedOnce(s.emulator.events);
      expect(batchesCreated(s.emulator.events)).toHaveLength(5);
    });
  });
});
