/**
 * Sync-mode test kit: a project whose pipeline talks to the emulator directly
 * (the real `openai` SDK over loopback). The emulator supplies what direct
 * calls meet on the real API: per-request faults matched by the
 * `x-transbatch-custom-id` header, latency (`timing.syncMs`), rpm/tpm limits
 * with `x-ratelimit-*` headers, and an `http` event per call with its
 * custom_id, status, start and end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli.js';
import { type EmulatorEvent, type EmulatorHandle, type FaultPlan, startEmulator } from '../../src/emulator/index.js';
import type { EmulatorLimits } from '../../src/emulator/types.js';
import { collector } from '../helpers/cli.js';
import { dataset, newKey } from '../run/harness.js';

export interface ChatCall {
  customId: string | undefined;
  status: number;
  start: number;
  end: number;
}

type HttpEvent = Extract<EmulatorEvent, { type: 'http' }>;

/** The most chat calls the emulator had open at once, from the recorded intervals. */
export function peakInFlight(calls: readonly ChatCall[]): number {
  let peak = 0;
  for (const call of calls) peak = Math.max(peak, calls.filter((other) => other.start <= call.start && other.end > call.start).length);
  return peak;
}

export interface SyncProjectOptions {
  rows?: number;
  fields?: string[];
  mode?: 'batch' | 'sync' | 'auto';
  /** The `sync:` block, e.g. `{concurrency: 4}`. */
  sync?: string;
  minRequests?: number;
  maxAttempts?: number;
  /** Default: every check but `language` (pseudo-localized text is no real language). */
  checks?: string[];
  extra?: string;
}

export interface SyncSetup {
  emulator: EmulatorHandle;
  /** Every finished chat call, in the order the answers ended. */
  calls(): ChatCall[];
  dir: string;
  config: string;
  env: Record<string, string>;
  output(lang?: string): string;
  rejects(lang?: string): string;
  run(signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }>;
  chatEvents(status?: number): EmulatorEvent[];
  batchesCreated(): number;
  close(): Promise<void>;
}

/** The same pipeline as test/run/harness.ts (so outputs compare byte for byte), with the mode and sync options. */
export async function syncSetup(
  options: SyncProjectOptions & { faults?: FaultPlan; latencyMs?: number; limits?: EmulatorLimits } = {},
): Promise<SyncSetup> {
  const key = newKey();
  const dataDir = mkdtempSync(join(tmpdir(), 'tb-sync-emu-'));
  const emulator = await startEmulator({
    dataDir,
    apiKey: key,
    engine: 'pseudo',
    faults: options.faults ?? {},
    ...(options.latencyMs ? { timing: { syncMs: options.latencyMs } } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'tb-sync-'));
  writeFileSync(join(dir, 'data.jsonl'), dataset(options.rows ?? 12));
  const config = join(dir, 'pipeline.yaml');
  writeFileSync(
    config,
    [
      'name: e2e',
      'input: {path: data.jsonl, id: id}',
      `fields: [${(options.fields ?? ['title', 'body']).join(', ')}]`,
      'target_languages: [ko]',
      'model: gpt-4o-mini',
      `provider: {kind: openai, base_url: "${emulator.url}"}`,
      `mode: ${options.mode ?? 'sync'}`,
      `batch: {poll_interval: 50ms, max_requests_per_file: 5, min_requests: ${options.minRequests ?? 100}}`,
      `sync: ${options.sync ?? '{concurrency: 4}'}`,
      `retry: {max_attempts: ${options.maxAttempts ?? 3}}`,
      `checks: [${(options.checks ?? ['nonempty', 'not_truncated', 'placeholders']).join(', ')}]`,
      'output: {path: "out/e2e.{lang}.jsonl"}',
      'run_dir: run',
      options.extra ?? '',
      '',
    ].join('\n'),
  );
  const env = { OPENAI_API_KEY: key, TRANSBATCH_CACHE_DIR: join(dir, 'cache'), OPENAI_BASE_URL: '', NO_COLOR: '1' };
  const chat = (status?: number): HttpEvent[] =>
    emulator.events.filter(
      (e): e is HttpEvent =>
        e.type === 'http' && e.method === 'POST' && e.path === '/v1/chat/completions' && (status === undefined || e.status === status),
    );
  return {
    emulator,
    calls: () => chat().map((e) => ({ customId: e.customId, status: e.status, start: e.start, end: e.end })),
    dir,
    config,
    env,
    output: (lang = 'ko') => join(dir, 'out', `e2e.${lang}.jsonl`),
    rejects: (lang = 'ko') => join(dir, 'out', `e2e.${lang}.rejects.jsonl`),
    run: (signal) => runWithSignal(['run', config], env, signal ?? new AbortController().signal),
    chatEvents: (status) => chat(status),
    batchesCreated: () => emulator.events.filter((e) => e.type === 'batch.created').length,
    async close() {
      await emulator.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `transbatch <argv>` in-process with a signal the test controls (Ctrl-C). */
export async function runWithSignal(
  argv: string[],
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = collector();
  const stderr = collector();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: { ...process.env, ...env }, isTty: false, signal });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export function readJsonl<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
