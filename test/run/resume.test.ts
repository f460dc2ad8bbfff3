/**
 * Kill-and-resume: a spawned `transbatch run` (dist/, the real process) is
 * SIGKILLed at a chosen moment — after an upload, inside batches.create after
 * the server created the batch, while waiting, while downloading, while
 * merging — and `run` again must finish with the clean run's exact bytes,
 * never running one shard content as two batches.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorEvent, FaultPlan } from '../../src/emulator/index.js';
import { spawnCli, waitForExit } from '../helpers/cli.js';
import {
  batchesCreated,
  expectEachContentCreatedOnce,
  expectKeyNowhere,
  expectSameOutputs,
  type ProjectOptions,
  referenceOutputs,
  runAndKill,
  type Setup,
  setup,
} from './harness.js';

const OPTIONS: ProjectOptions = { rows: 12, langs: ['ko', 'ja'], maxRequestsPerFile: 5 };
const BIG: ProjectOptions = { rows: 2000, langs: ['ko'], maxRequestsPerFile: 5000 };
let reference: Map<string, Buffer>;
let bigReference: Map<string, Buffer>;

beforeAll(async () => {
  [reference, bigReference] = await Promise.all([referenceOutputs(OPTIONS), referenceOutputs(BIG)]);
});

interface KillCase {
  name: string;
  faults?: FaultPlan;
  perRequestMs?: number;
  options?: ProjectOptions;
  event?: (event: EmulatorEvent) => boolean;
  poll?: (s: Setup) => boolean;
  /** Extra checks on the state the kill left behind, before the resume. */
  afterKill?: (s: Setup) => void;
}

const CASES: KillCase[] = [
  {
    name: 'after the first upload',
    event: (event) => event.type === 'file.created',
  },
  {
    name: 'inside batches.create, after the server created the batch but before the client heard',
    faults: { http: [{ route: 'POST /v1/batches', action: 'create_then_hang', hang_ms: 20_000, times: 1 }] },
    event: (event) => event.type === 'batch.created',
    afterKill: (s) => expect(batchesCreated(s.emulator.events)).toHaveLength(1),
  },
  {
    name: 'while waiting for batches in progress',
    perRequestMs: 40,
    event: (event) => event.type === 'batch.status' && event.status === 'in_progress',
  },
  {
    name: 'while downloading results',
    event: (event) => event.type === 'http' && /^\/v1\/files\/[^/]+\/content$/.test(event.path),
  },
  {
    name: 'while creating the retry round (first retry batch created)',
    faults: { requests: [{ custom_id: '^r[01]\\.', kind: 'error', status: 500, times: 1 }] },
    // 12 rows × 2 fields × 2 languages / 5 per file = 10 first shards; 11 is the first retry shard.
    event: (event) => event.type === 'batch.created' && event.metadata?.['transbatch_shard'] === '11',
  },
  {
    name: 'while backing off after token_limit_exceeded',
    faults: { batches: [{ match: { nth: 1 }, outcome: 'token_limit_exceeded' }] },
    event: (event) => event.type === 'batch.status' && event.status === 'failed',
  },
  {
    name: 'while preparing (the first shard file is being written)',
    options: BIG,
    poll: (s) => existsSync(join(s.project.runDir, 'shards')) && readdirSync(join(s.project.runDir, 'shards')).length > 0,
    afterKill: (s) => expect(batchesCreated(s.emulator.events)).toHaveLength(0),
  },
  {
    name: 'while merging (the output temp file exists)',
    options: BIG,
    poll: (s) => existsSync(s.project.outDir) && readdirSync(s.project.outDir).some((name) => name.includes('.tmp-')),
  },
];

async function killAndResume(kill: KillCase): Promise<void> {
  const options = kill.options ?? OPTIONS;
  const s = await setup(kill.faults ?? {}, { ...options, ...(kill.perRequestMs ? { perRequestMs: kill.perRequestMs } : {}) });
  try {
    const killed = await runAndKill(s, {
      ...(kill.event ? { event: kill.event } : {}),
      ...(kill.poll ? { poll: () => kill.poll!(s) } : {}),
    });
    expect(killed.killed, `the CLI was not killed (exit ${killed.code}): ${killed.stderr}`).toBe(true);
    kill.afterKill?.(s);

    const resumed = await s.run();
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameOutputs(s.project, options === BIG ? bigReference : reference);
    expectEachContentCreatedOnce(s.emulator.events);
    // No half-written output is left beside the outputs.
    expect(readdirSync(s.project.outDir).filter((name) => name.includes('.tmp-'))).toEqual([]);
    expectKeyNowhere(s);
  } finally {
    await s.close();
  }
}

describe.concurrent('kill -9 and resume', () => {
  it.each(CASES.filter((kill) => !kill.options))('$name', killAndResume);
});

// Killed on a file-system poll: alone in this worker, so the poll is not starved by other in-process runs.
describe('kill -9 and resume (bigger dataset)', () => {
  it.each(CASES.filter((kill) => kill.options))('$name', killAndResume);
});

it('Ctrl-C while waiting stops with exit 3, cancels nothing, and run finishes', async () => {
  const s = await setup({}, { ...OPTIONS, perRequestMs: 40 });
  try {
    const child = spawnCli(['run', s.project.config], { env: s.project.env, cwd: s.project.dir });
    const exit = waitForExit(child);
    // One Ctrl-C (a second one exits at once with 130).
    let sent = false;
    const off = s.emulator.on((event) => {
      if (!sent && event.type === 'batch.status' && event.status === 'in_progress') {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const stopped = await exit;
    off();
    s.printed.push(stopped.stdout, stopped.stderr);
    expect(stopped.code, stopped.stderr).toBe(3);
    expect(stopped.stderr).toMatch(/run the same command again/i);
    expect(s.emulator.events.some((e) => e.type === 'http' && e.method === 'POST' && e.path.endsWith('/cancel'))).toBe(false);

    const resumed = await s.run();
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameOutputs(s.project, reference);
    expectEachContentCreatedOnce(s.emulator.events);
    expectKeyNowhere(s);
  } finally {
    await s.close();
  }
});
