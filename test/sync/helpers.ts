/**
 * Sync-mode test kit: a project whose pipeline talks to the emulator either
 * directly or through a loopback relay that (a) copies the
 * `x-transbatch-custom-id` header into `metadata.custom_id`, so the
 * emulator's per-request faults match direct calls, (b) can add latency and
 * response headers, and (c) records every chat call (custom_id, status,
 * start/end, in-flight high-water mark). The relay is plain HTTP: the CLI
 * still uses the real `openai` SDK over loopback.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/cli.js';
import { type EmulatorEvent, type EmulatorHandle, type FaultPlan, startEmulator } from '../../src/emulator/index.js';
import { dataset, newKey } from '../run/harness.js';

export interface ChatCall {
  customId: string | undefined;
  status: number;
  start: number;
  end: number;
}

export interface RelayOptions {
  /** Added before each chat call is forwarded. */
  delayMs?: number;
  /** Extra response headers for the nth (1-based) chat call. */
  headers?: (nth: number) => Record<string, string> | undefined;
}

export interface Relay {
  url: string;
  calls: ChatCall[];
  maxInFlight: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startRelay(target: EmulatorHandle, options: RelayOptions = {}): Promise<Relay> {
  let inFlight = 0;
  let nth = 0;
  const relay: Relay = { url: '', calls: [], maxInFlight: 0, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const chat = req.method === 'POST' && (req.url ?? '').endsWith('/chat/completions');
    const start = Date.now();
    const number = chat ? ++nth : 0;
    if (chat) {
      inFlight++;
      relay.maxInFlight = Math.max(relay.maxInFlight, inFlight);
    }
    let body = await readBody(req);
    const customId = req.headers['x-transbatch-custom-id'];
    const id = typeof customId === 'string' ? customId : undefined;
    if (chat && id !== undefined) {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      parsed['metadata'] = { custom_id: id };
      body = Buffer.from(JSON.stringify(parsed));
    }
    if (chat && options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const headers = { ...req.headers, host: `127.0.0.1:${target.port}`, 'content-length': String(body.length) };
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers }, (answer) => {
      const extra = chat ? (options.headers?.(number) ?? {}) : {};
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...extra });
      answer.pipe(res);
      answer.on('end', () => {
        if (!chat) return;
        inFlight--;
        relay.calls.push({ customId: id, status: answer.statusCode ?? 0, start, end: Date.now() });
      });
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  relay.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return relay;
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
  relay: Relay | undefined;
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
  options: SyncProjectOptions & { faults?: FaultPlan; relay?: RelayOptions | true } = {},
): Promise<SyncSetup> {
  const key = newKey();
  const dataDir = mkdtempSync(join(tmpdir(), 'tb-sync-emu-'));
  const emulator = await startEmulator({ dataDir, apiKey: key, engine: 'pseudo', faults: options.faults ?? {} });
  const relay = options.relay ? await startRelay(emulator, options.relay === true ? {} : options.relay) : undefined;
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
      `provider: {kind: openai, base_url: "${relay?.url ?? emulator.url}"}`,
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
  return {
    emulator,
    relay,
    dir,
    config,
    env,
    output: (lang = 'ko') => join(dir, 'out', `e2e.${lang}.jsonl`),
    rejects: (lang = 'ko') => join(dir, 'out', `e2e.${lang}.rejects.jsonl`),
    run: (signal) => runWithSignal(['run', config], env, signal ?? new AbortController().signal),
    chatEvents: (status) =>
      emulator.events.filter(
        (e) =>
          e.type === 'http' && e.method === 'POST' && e.path === '/v1/chat/completions' && (status === undefined || e.status === status),
      ),
    batchesCreated: () => emulator.events.filter((e) => e.type === 'batch.created').length,
    async close() {
      await relay?.close();
      await emulator.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
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
