/**
 * End-to-end harness for `transbatch run`: a temp project (dataset +
 * pipeline YAML pointing at an in-process emulator over loopback), a unique
 * API key per project, the CLI run in-process or spawned, and the
 * assertions every test shares (exact output, key never written or printed,
 * each distinct shard content created as a batch at most once).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { EmulatorEvent, EmulatorHandle, FaultPlan } from '../../src/emulator/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import { type CliResult, runCliCapture, spawnCli, waitForExit } from '../helpers/cli.js';

export const LANGS = ['ko', 'ja'] as const;

/** `rows` distinct rows with two translatable fields (no dedupe between them). */
export function dataset(rows: number): string {
  const subjects = [
    'fox',
    'river',
    'teacher',
    'garden',
    'engine',
    'violin',
    'harbor',
    'mountain',
    'library',
    'kitchen',
    'window',
    'planet',
  ];
  let text = '';
  for (let index = 0; index < rows; index++) {
    const subject = subjects[index % subjects.length];
    text += `${JSON.stringify({
      id: index + 1,
      title: `The ${subject} number ${index} waits by the road.`,
      body: `Please describe the ${subject} in detail, item ${index}; keep {name} as it is.`,
    })}\n`;
  }
  return text;
}

export interface Project {
  dir: string;
  key: string;
  config: string;
  runDir: string;
  outDir: string;
  cacheDir: string;
  env: Record<string, string>;
  /** Output file path per language. */
  output(lang: string): string;
  rejects(lang: string): string;
  cleanup(): void;
}

export interface ProjectOptions {
  rows?: number;
  langs?: readonly string[];
  maxRequestsPerFile?: number;
  maxAttempts?: number;
  /** Extra top-level YAML (e.g. `checks: [nonempty]`). */
  extra?: string;
  maxInFlight?: number;
}

export function createProject(emulatorUrl: string, key: string, options: ProjectOptions = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tb-run-'));
  const langs = options.langs ?? ['ko'];
  writeFileSync(join(dir, 'data.jsonl'), dataset(options.rows ?? 12));
  const config = join(dir, 'pipeline.yaml');
  writeFileSync(
    config,
    [
      'name: e2e',
      'input: {path: data.jsonl, id: id}',
      'fields: [title, body]',
      `target_languages: [${langs.join(', ')}]`,
      'model: gpt-4o-mini',
      `provider: {kind: openai, base_url: "${emulatorUrl}"}`,
      `batch: {poll_interval: 50ms, max_requests_per_file: ${options.maxRequestsPerFile ?? 5}, max_in_flight: ${options.maxInFlight ?? 10}}`,
      `retry: {max_attempts: ${options.maxAttempts ?? 3}}`,
      'output: {path: "out/e2e.{lang}.jsonl"}',
      'run_dir: run',
      // The pseudo engine does not write the target language: that check cannot judge it.
      'checks: [nonempty, not_truncated, placeholders, length_ratio]',
      options.extra ?? '',
      '',
    ].join('\n'),
  );
  const cacheDir = join(dir, 'cache');
  return {
    dir,
    key,
    config,
    runDir: join(dir, 'run'),
    outDir: join(dir, 'out'),
    cacheDir,
    env: { OPENAI_API_KEY: key, TRANSBATCH_CACHE_DIR: cacheDir, OPENAI_BASE_URL: '', NO_COLOR: '1' },
    output: (lang) => join(dir, 'out', `e2e.${lang}.jsonl`),
    rejects: (lang) => join(dir, 'out', `e2e.${lang}.rejects.jsonl`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function newKey(): string {
  return `sk-test-${randomBytes(16).toString('hex')}`;
}

export interface Setup {
  emulator: EmulatorHandle;
  project: Project;
  /** Every stdout/stderr text any CLI call of this setup produced (for the key check). */
  printed: string[];
  run(args?: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

export async function setup(
  faults: FaultPlan = {},
  options: ProjectOptions & { engine?: 'pseudo' | 'echo'; perRequestMs?: number } = {},
): Promise<Setup> {
  const key = newKey();
  const dataDir = mkdtempSync(join(tmpdir(), 'tb-emu-'));
  const emulator = await startEmulator({
    dataDir,
    apiKey: key,
    engine: options.engine ?? 'pseudo',
    faults,
    ...(options.perRequestMs ? { timing: { perRequestMs: options.perRequestMs } } : {}),
  });
  const project = createProject(emulator.url, key, options);
  const printed: string[] = [];
  return {
    emulator,
    project,
    printed,
    async run(args = []) {
      const result = await runCliCapture(['run', project.config, ...args], project.env);
      printed.push(result.stdout, result.stderr);
      return result;
    },
    async close() {
      await emulator.close();
      rmSync(dataDir, { recursive: true, force: true });
      project.cleanup();
    },
  };
}

/** Runs the same pipeline on a clean emulator with no faults: the expected bytes per language. */
export async function referenceOutputs(options: ProjectOptions = {}): Promise<Map<string, Buffer>> {
  const clean = await setup({}, options);
  try {
    const result = await clean.run();
    expect(result.code, result.stderr).toBe(0);
    const outputs = new Map<string, Buffer>();
    for (const lang of options.langs ?? ['ko']) outputs.set(lang, readFileSync(clean.project.output(lang)));
    const rowCount = (options.rows ?? 12) * 1;
    for (const bytes of outputs.values()) expect(bytes.toString('utf8').trim().split('\n')).toHaveLength(rowCount);
    return outputs;
  } finally {
    await clean.close();
  }
}

export function expectSameOutputs(project: Project, reference: Map<string, Buffer>): void {
  for (const [lang, bytes] of reference) {
    const actual = readFileSync(project.output(lang));
    expect(actual.toString('utf8')).toBe(bytes.toString('utf8'));
    expect(actual.equals(bytes)).toBe(true);
    expect(readFileSync(project.rejects(lang), 'utf8')).toBe('');
  }
}

function* walk(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** SPEC: the API key never appears in any file (binary too: SQLite, WAL) or printed line. */
export function expectKeyNowhere(setupOrProject: { project: Project; printed: string[] }): void {
  const { project, printed } = setupOrProject;
  const needle = Buffer.from(project.key);
  const files = [...walk(project.runDir), ...walk(project.outDir)];
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    expect(readFileSync(file).includes(needle), `the API key is in ${file}`).toBe(false);
  }
  for (const text of printed) expect(text.includes(project.key), 'the API key was printed').toBe(false);
}

export type BatchCreated = Extract<EmulatorEvent, { type: 'batch.created' }>;

export function batchesCreated(events: readonly EmulatorEvent[]): BatchCreated[] {
  return events.filter((event): event is BatchCreated => event.type === 'batch.created');
}

/**
 * "Never pays twice": each shard (run id + shard number in the batch
 * metadata) ran as at most one batch, unless the earlier one ended failed
 * (token_limit_exceeded: re-created from the same file) or was cancelled as
 * a duplicate before it ran. Shards are also told apart by content (input
 * sha256): one content under two shard numbers is only legitimate for a
 * retry shard that resends every line of an earlier shard whose answers all
 * failed (asserted in the tests that expect it).
 */
export function expectEachContentCreatedOnce(events: readonly EmulatorEvent[]): void {
  const finalStatus = new Map<string, string>();
  for (const event of events) if (event.type === 'batch.status') finalStatus.set(event.batchId, event.status);
  const byShard = new Map<string, BatchCreated[]>();
  for (const created of batchesCreated(events)) {
    const shard = `${created.metadata?.['transbatch_run']}#${created.metadata?.['transbatch_shard']}|${created.inputSha256}`;
    byShard.set(shard, [...(byShard.get(shard) ?? []), created]);
  }
  expect(byShard.size).toBeGreaterThan(0);
  for (const [shard, batches] of byShard) {
    const ran = batches.filter((batch) => !['failed', 'cancelled'].includes(finalStatus.get(batch.batchId) ?? ''));
    expect(
      ran.length,
      `shard ${shard.slice(0, 60)} ran as ${ran.length} batches: ${ran.map((b) => b.batchId).join(', ')}`,
    ).toBeLessThanOrEqual(1);
  }
}

/** Spawns `transbatch run` and SIGKILLs it when `when` says so (an emulator event or a file-system poll). */
export async function runAndKill(
  s: Setup,
  when: { event?: (event: EmulatorEvent) => boolean; poll?: () => boolean },
): Promise<{ killed: boolean; code: number; stdout: string; stderr: string }> {
  const child = spawnCli(['run', s.project.config], { env: s.project.env, cwd: s.project.dir });
  const exit = waitForExit(child);
  let killed = false;
  const kill = () => {
    if (!killed && child.exitCode === null) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  const off = when.event ? s.emulator.on((event) => when.event!(event) && kill()) : () => {};
  const timer = when.poll ? setInterval(() => when.poll!() && kill(), 2) : undefined;
  try {
    const result = await exit;
    s.printed.push(result.stdout, result.stderr);
    return { killed: killed && result.signal === 'SIGKILL', code: result.code, stdout: result.stdout, stderr: result.stderr };
  } finally {
    off();
    if (timer) clearInterval(timer);
  }
}

export function readJsonl<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
