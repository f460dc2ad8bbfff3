/**
 * The run's life cycle through the CLI: a finished run re-run does nothing,
 * `--no-wait` returns 3 with batches in flight that `status` shows and a
 * second `run` finishes, and a refused key is exit 1 with one paragraph.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { runCliCapture } from '../helpers/cli.js';
import {
  createProject,
  expectEachContentCreatedOnce,
  expectKeyNowhere,
  expectSameOutputs,
  newKey,
  type ProjectOptions,
  referenceOutputs,
  setup,
} from './harness.js';

const OPTIONS: ProjectOptions = { rows: 12, langs: ['ko', 'ja'], maxRequestsPerFile: 5 };
let reference: Map<string, Buffer>;

beforeAll(async () => {
  reference = await referenceOutputs(OPTIONS);
});

describe.concurrent('run life cycle', () => {
  it('re-running a finished run sends nothing and says so', async () => {
    const s = await setup({}, OPTIONS);
    try {
      const first = await s.run();
      expect(first.code, first.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      const seen = s.emulator.events.length;
      expect(seen).toBeGreaterThan(0);

      const again = await s.run();
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/already finished/);
      // Not one HTTP call: no file, no batch, not even a list.
      expect(s.emulator.events.slice(seen)).toEqual([]);
      expectSameOutputs(s.project, reference);
      expectKeyNowhere(s);
    } finally {
      await s.close();
    }
  });

  it('max_in_flight bounds the batches the provider holds; a finished one waiting to be collected is not held', async () => {
    const s = await setup({}, { ...OPTIONS, maxInFlight: 2, perRequestMs: 20 });
    try {
      const result = await s.run();
      expect(result.code, result.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      // Replay the emulator's events: at each create, the batches created and not yet finished.
      const open = new Set<string>();
      let most = 0;
      for (const event of s.emulator.events) {
        if (event.type === 'batch.created') {
          open.add(event.batchId);
          most = Math.max(most, open.size);
        } else if (event.type === 'batch.status' && ['completed', 'failed', 'expired', 'cancelled'].includes(event.status)) {
          open.delete(event.batchId);
        }
      }
      expect(s.emulator.events.filter((e) => e.type === 'batch.created')).toHaveLength(10);
      expect(most).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('--no-wait returns 3 with batches in flight; status shows them; run finishes them', async () => {
    // Slow enough that no batch is done when --no-wait returns.
    const s = await setup({}, { ...OPTIONS, perRequestMs: 100 });
    try {
      const submitted = await s.run(['--no-wait']);
      expect(submitted.code, submitted.stderr).toBe(3);
      const created = s.emulator.events.filter((e) => e.type === 'batch.created').length;
      expect(created).toBe(10);

      const status = await runCliCapture(['status', s.project.config, '--json'], s.project.env);
      s.printed.push(status.stdout, status.stderr);
      expect(status.code, status.stderr).toBe(0);
      const parsed = JSON.parse(status.stdout) as {
        finished: boolean;
        batches: { state: string; batch_id: string | null; batch_status: string | null }[];
        requests: { queued: number };
      };
      expect(parsed.finished).toBe(false);
      expect(parsed.batches).toHaveLength(10);
      for (const batch of parsed.batches) {
        expect(batch.state).toBe('submitted');
        expect(batch.batch_id).toMatch(/^batch_/);
      }
      expect(parsed.requests.queued).toBe(48);

      const finished = await s.run();
      expect(finished.code, finished.stderr).toBe(0);
      expectSameOutputs(s.project, reference);
      // The second run adopted the batches: nothing created again.
      expect(s.emulator.events.filter((e) => e.type === 'batch.created')).toHaveLength(10);
      expectKeyNowhere(s);
    } finally {
      await s.close();
    }
  });

  it('a refused key is exit 1 with one paragraph, no stack, and the key nowhere', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tb-emu-'));
    const emulator = await startEmulator({ dataDir, apiKey: newKey() });
    const project = createProject(emulator.url, newKey(), OPTIONS);
    try {
      const result = await runCliCapture(['run', project.config], project.env);
      expect(result.code).toBe(1);
      const error = result.stderr.slice(result.stderr.indexOf('error:'));
      expect(error).toMatch(/^error: .*key/);
      expect(error.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stderr).not.toMatch(/internal error/);
      expectKeyNowhere({ project, printed: [result.stdout, result.stderr] });
      expect(emulator.events.some((e) => e.type === 'http' && e.status === 401)).toBe(true);
      expect(emulator.events.some((e) => e.type === 'batch.created')).toBe(false);
    } finally {
      await emulator.close();
      rmSync(dataDir, { recursive: true, force: true });
      project.cleanup();
    }
  });
});

describe('the never-pays-twice check itself', () => {
  const created = (batchId: string, shard: string, sha = 'aa') =>
    ({
      type: 'batch.created',
      batchId,
      inputFileId: 'file-1',
      inputSha256: sha,
      metadata: { transbatch_run: 'r', transbatch_shard: shard },
    }) as const;
  const status = (batchId: string, value: 'failed' | 'completed' | 'cancelled') =>
    ({ type: 'batch.status', batchId, status: value }) as const;

  it('fails on one shard run as two batches', () => {
    expect(() =>
      expectEachContentCreatedOnce([created('b1', '1'), status('b1', 'completed'), created('b2', '1'), status('b2', 'completed')]),
    ).toThrow(/ran as 2 batches/);
  });

  it('allows a re-create after failed, and a duplicate cancelled before it ran', () => {
    expectEachContentCreatedOnce([created('b1', '1'), status('b1', 'failed'), created('b2', '1'), status('b2', 'completed')]);
    expectEachContentCreatedOnce([created('b1', '1'), created('b2', '1'), status('b2', 'cancelled'), status('b1', 'completed')]);
  });
});
