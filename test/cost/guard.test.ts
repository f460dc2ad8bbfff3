/**
 * The cost guard of `transbatch run`, against an in-process emulator:
 * `--max-cost` refuses before any upload, the TTY confirmation
 * (cost.confirm_above_usd, `--yes`) as a decision table and as stream I/O,
 * report.json's estimate next to the actual cost, and Azure deployments in
 * the batch lines and the run identity.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../../src/config/load.js';
import { type EmulatorEvent, type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { askYesNo, confirmDecision, isYes } from '../../src/run/confirm.js';
import { runIdentity } from '../../src/run/identity.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { estimateError } from '../../src/run/report.js';
import { silentProgress } from '../../src/wait/progress.js';
import { runCliCapture } from '../helpers/cli.js';
import { createProject, newKey, type Project } from '../run/harness.js';

/** A price that makes 12 rows cost dollars, so both amounts print distinctly: $0.01 a token, $0.005 in a batch. */
const PRICE = 'cost: {price: {input: 10000, output: 10000}}';

let emulator: EmulatorHandle;
let dataDir: string;
let key: string;

beforeAll(async () => {
  key = newKey();
  dataDir = mkdtempSync(join(tmpdir(), 'tb-cost-emu-'));
  emulator = await startEmulator({ dataDir, apiKey: key, engine: 'pseudo' });
});

afterAll(async () => {
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Uploads and batch creations the emulator saw since `from` (an index into its events). */
function uploadsSince(from: number): EmulatorEvent[] {
  return emulator.events
    .slice(from)
    .filter(
      (event) =>
        event.type === 'file.created' ||
        event.type === 'batch.created' ||
        (event.type === 'http' && event.method === 'POST' && (event.path === '/v1/files' || event.path.startsWith('/v1/uploads'))),
    );
}

function project(extra = PRICE): Project {
  return createProject(emulator.url, key, { extra });
}

describe('--max-cost', () => {
  it('below the estimate: exit 1, both amounts named, nothing uploaded', async () => {
    const p = project();
    try {
      const from = emulator.events.length;
      const result = await runCliCapture(['run', p.config, '--max-cost', '1'], p.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/estimated cost \$\d+\.\d\d is above --max-cost \$1\.00; nothing was submitted/);
      const estimated = Number(/estimated cost \$(\d+\.\d\d)/.exec(result.stderr)?.[1]);
      expect(estimated).toBeGreaterThan(1);
      expect(uploadsSince(from)).toEqual([]);
      // Not even a connection: the guard runs before the provider is opened.
      expect(emulator.events.slice(from).filter((event) => event.type === 'http')).toEqual([]);
    } finally {
      p.cleanup();
    }
  });

  it('cost.max_cost_usd in the config is the default', async () => {
    const p = project('cost: {price: {input: 10000, output: 10000}, max_cost_usd: 0.5}');
    try {
      const from = emulator.events.length;
      const result = await runCliCapture(['run', p.config], p.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/above --max-cost \$0\.50/);
      expect(uploadsSince(from)).toEqual([]);
      // The flag overrides it.
      const allowed = await runCliCapture(['run', p.config, '--max-cost', '100000'], p.env);
      expect(allowed.code, allowed.stderr).toBe(0);
    } finally {
      p.cleanup();
    }
  });

  it('above the estimate: the run finishes, and report.json has the estimate next to the actual cost', async () => {
    const p = project();
    try {
      const from = emulator.events.length;
      const result = await runCliCapture(['run', p.config, '--max-cost', '100000'], p.env);
      expect(result.code, result.stderr).toBe(0);
      expect(uploadsSince(from).filter((event) => event.type === 'file.created').length).toBeGreaterThan(0);
      const report = JSON.parse(readFileSync(join(p.runDir, 'report.json'), 'utf8')) as Record<string, unknown>;
      expect(report['cost_usd_estimated']).toEqual(expect.any(Number));
      expect(report['cost_usd_batch']).toEqual(expect.any(Number));
      const estimated = report['cost_usd_estimated'] as number;
      const actual = report['cost_usd_batch'] as number;
      expect(estimated).toBeGreaterThan(1);
      expect(report['estimate_error']).toBeCloseTo((actual - estimated) / estimated, 12);
      expect(result.stderr).toMatch(/cost at batch prices: \$\d+\.\d\d \(estimated \$\d+\.\d\d\)/);
    } finally {
      p.cleanup();
    }
  });

  it('a resumed run keeps the estimate made before the first send', async () => {
    const p = project();
    try {
      const first = await runCliCapture(['run', p.config, '--no-wait'], p.env);
      expect(first.code, first.stderr).toBe(3);
      const second = await runCliCapture(['run', p.config], p.env);
      expect(second.code, second.stderr).toBe(0);
      const report = JSON.parse(readFileSync(join(p.runDir, 'report.json'), 'utf8')) as Record<string, number | null>;
      expect(report['cost_usd_estimated']).toBeGreaterThan(1);
      expect(report['estimate_error']).not.toBeNull();
    } finally {
      p.cleanup();
    }
  });

  it('an unknown price: estimate_error is null', async () => {
    const p = project('');
    try {
      writeFileSync(p.config, readFileSync(p.config, 'utf8').replace('model: gpt-4o-mini', 'model: my-own-model'));
      const result = await runCliCapture(['run', p.config], p.env);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(readFileSync(join(p.runDir, 'report.json'), 'utf8')) as Record<string, unknown>;
      expect(report).toMatchObject({ cost_usd_batch: null, cost_usd_estimated: null, estimate_error: null });
    } finally {
      p.cleanup();
    }
  });
});

describe('the confirmation', () => {
  const base = { estimateUsd: 12, thresholdUsd: 5, isTty: true, yes: false };
  it.each([
    ['above the threshold on a TTY', base, 'ask'],
    ['--yes', { ...base, yes: true }, 'proceed'],
    ['not a TTY (scripts use --max-cost)', { ...base, isTty: false }, 'proceed'],
    ['no cost.confirm_above_usd', { ...base, thresholdUsd: undefined }, 'proceed'],
    ['at the threshold', { ...base, estimateUsd: 5 }, 'proceed'],
    ['below the threshold', { ...base, estimateUsd: 4.99 }, 'proceed'],
    ['a threshold of 0 and any cost', { ...base, estimateUsd: 0.0001, thresholdUsd: 0 }, 'ask'],
    ['an unknown price on a TTY', { ...base, estimateUsd: null }, 'ask'],
    ['an unknown price, not a TTY', { ...base, estimateUsd: null, isTty: false }, 'proceed'],
    ['an unknown price with --yes', { ...base, estimateUsd: null, yes: true }, 'proceed'],
  ] as const)('%s → %s', (_name, input, expected) => {
    expect(confirmDecision(input).kind).toBe(expected);
  });

  it('the question names both amounts', () => {
    const decision = confirmDecision(base);
    expect(decision.kind === 'ask' && decision.question).toMatch(/\$12\.00 is above cost\.confirm_above_usd \$5\.00.*\[y\/N\]/);
  });

  it.each([
    ['y', true],
    ['Y', true],
    [' yes ', true],
    ['YES', true],
    ['n', false],
    ['no', false],
    ['', false],
    ['yep', false],
    ['sure', false],
  ])('isYes(%j) = %s', (answer, expected) => {
    expect(isYes(answer)).toBe(expected);
  });

  async function ask(feed: (input: PassThrough) => void, signal?: AbortSignal): Promise<{ answer: boolean; shown: string }> {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.setEncoding('utf8').on('data', (chunk: string) => (shown += chunk));
    const answer = askYesNo('Submit? [y/N] ', { input, output, ...(signal ? { signal } : {}) });
    feed(input);
    return { answer: await answer, shown };
  }

  it('"y" proceeds; the question went to the output stream', async () => {
    const { answer, shown } = await ask((input) => input.write('y\n'));
    expect(answer).toBe(true);
    expect(shown).toBe('Submit? [y/N] ');
  });

  it('an answer split across chunks is read up to the newline', async () => {
    const split = await ask((input) => {
      input.write('ye');
      input.write('s\nmore');
    });
    expect(split.answer).toBe(true);
  });

  it('"n", an empty line and EOF refuse', async () => {
    expect((await ask((input) => input.write('n\n'))).answer).toBe(false);
    expect((await ask((input) => input.write('\n'))).answer).toBe(false);
    const eof = await ask((input) => input.end());
    expect(eof.answer).toBe(false);
    expect(eof.shown).toBe('Submit? [y/N] \n');
  });

  it('Ctrl-C (the abort signal) refuses', async () => {
    const controller = new AbortController();
    expect((await ask(() => controller.abort(), controller.signal)).answer).toBe(false);
  });

  it('runPipeline: a refused confirmation uploads nothing; an accepted one runs', async () => {
    const p = project();
    try {
      const config = loadPipelineConfig(p.config, { env: { ...process.env, ...p.env } });
      const asked: number[] = [];
      const options = {
        env: { ...process.env, ...p.env },
        signal: new AbortController().signal,
        fresh: false,
        noWait: false,
        pollIntervalMs: 50,
        log: () => {},
        progress: silentProgress,
        toolVersion: 'test',
      };
      const from = emulator.events.length;
      await expect(
        runPipeline(config, {
          ...options,
          confirmCost: async (estimate) => {
            asked.push(estimate.batchUsd ?? -1);
            return false;
          },
        }),
      ).rejects.toThrow(/not confirmed \(estimated cost \$\d+\.\d\d\); nothing was submitted/);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toBeGreaterThan(1);
      expect(uploadsSince(from)).toEqual([]);
      const result = await runPipeline(config, { ...options, confirmCost: async () => true });
      expect(result.kind).toBe('finished');
      expect(uploadsSince(from).length).toBeGreaterThan(0);
    } finally {
      p.cleanup();
    }
  });

  it('through the CLI without a TTY, cost.confirm_above_usd never asks', async () => {
    const p = project('cost: {price: {input: 10000, output: 10000}, confirm_above_usd: 0}');
    try {
      const result = await runCliCapture(['run', p.config], p.env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/\[y\/N\]/);
    } finally {
      p.cleanup();
    }
  });
});

describe('Azure deployments', () => {
  it('batch lines carry provider.deployment as body.model', async () => {
    const p = project();
    try {
      writeFileSync(
        p.config,
        readFileSync(p.config, 'utf8').replace(
          /^provider: .*$/m,
          `provider: {kind: azure, endpoint: "${emulator.origin}", api_version: "2024-10-21", deployment: translator-prod}`,
        ),
      );
      const prepared = await runCliCapture(['prepare', p.config], { ...p.env, AZURE_OPENAI_API_KEY: key });
      expect(prepared.code, prepared.stderr).toBe(0);
      const shardsDir = join(p.runDir, 'shards');
      const lines = readdirSync(shardsDir)
        .filter((name) => name.endsWith('.jsonl'))
        .flatMap((name) => readFileSync(join(shardsDir, name), 'utf8').trim().split('\n'))
        .map((line) => JSON.parse(line) as { body: { model: string } });
      expect(lines.length).toBe(24);
      expect(new Set(lines.map((line) => line.body.model))).toEqual(new Set(['translator-prod']));
      const result = await runCliCapture(['run', p.config], { ...p.env, OPENAI_API_KEY: '', AZURE_OPENAI_API_KEY: key });
      expect(result.code, result.stderr).toBe(0);
      // Prices still come from `model`.
      const report = JSON.parse(readFileSync(join(p.runDir, 'report.json'), 'utf8')) as Record<string, unknown>;
      expect(report['cost_usd_batch']).toEqual(expect.any(Number));
    } finally {
      p.cleanup();
    }
  });

  it('without a deployment, or with kind openai, body.model stays the model', async () => {
    const p = project();
    try {
      writeFileSync(p.config, readFileSync(p.config, 'utf8').replace(/^provider: \{kind: openai, /m, '$&deployment: ignored, '));
      const prepared = await runCliCapture(['prepare', p.config], p.env);
      expect(prepared.code, prepared.stderr).toBe(0);
      const shardsDir = join(p.runDir, 'shards');
      const first = readdirSync(shardsDir).find((name) => name.endsWith('.jsonl'));
      const line = JSON.parse(readFileSync(join(shardsDir, first!), 'utf8').split('\n')[0]!) as { body: { model: string } };
      expect(line.body.model).toBe('gpt-4o-mini');
    } finally {
      p.cleanup();
    }
  });

  it('endpoint, deployment and api_version are part of the run identity', () => {
    const p = project();
    try {
      const config = loadPipelineConfig(p.config, { env: { ...process.env, ...p.env } });
      const azure = { ...config, provider: { ...config.provider, kind: 'azure' as const, endpoint: 'https://a.openai.azure.com' } };
      const identities = [
        runIdentity(config, 'sha'),
        runIdentity(azure, 'sha'),
        runIdentity({ ...azure, provider: { ...azure.provider, endpoint: 'https://b.openai.azure.com' } }, 'sha'),
        runIdentity({ ...azure, provider: { ...azure.provider, deployment: 'dep-1' } }, 'sha'),
        runIdentity({ ...azure, provider: { ...azure.provider, deployment: 'dep-2' } }, 'sha'),
        runIdentity({ ...azure, provider: { ...azure.provider, api_version: '2025-04-01-preview' } }, 'sha'),
      ];
      expect(new Set(identities).size).toBe(identities.length);
      expect(runIdentity(azure, 'sha')).toBe(identities[1]);
    } finally {
      p.cleanup();
    }
  });
});

describe('estimateError', () => {
  it.each([
    [1.1, 1, 0.1],
    [0.9, 1, -0.1],
    [1, null, null],
    [null, 1, null],
    [1, 0, null],
  ] as const)('actual %s, estimated %s → %s', (actual, estimated, expected) => {
    const error = estimateError(actual, estimated);
    if (expected === null) expect(error).toBeNull();
    else expect(error).toBeCloseTo(expected, 12);
  });
});
