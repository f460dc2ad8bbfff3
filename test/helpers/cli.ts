/**
 * Drives the CLI from tests: `runCliCapture` in-process (fast, same exit codes
 * and messages as the binary), `spawnCli` as a real child process of the built
 * `dist/cli/main.js` (signals, process exit, stdio).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/cli.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Writable that keeps what is written, for asserting on a command's output. */
export function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs `transbatch <argv>` in-process. The response cache goes to a fresh temp
 * dir per call (removed afterwards) unless `env.TRANSBATCH_CACHE_DIR` is given.
 */
export async function runCliCapture(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const ownCache = env['TRANSBATCH_CACHE_DIR'] === undefined ? mkdtempSync(join(tmpdir(), 'tb-cache-')) : undefined;
  const controller = new AbortController();
  try {
    const code = await runCli(argv, {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: { ...process.env, ...(ownCache ? { TRANSBATCH_CACHE_DIR: ownCache } : {}), ...env },
      isTty: false,
      signal: controller.signal,
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    if (ownCache) rmSync(ownCache, { recursive: true, force: true });
  }
}

export interface SpawnCliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Spawns `node dist/cli/main.js <args>` (built by `pretest`); stdio is piped. */
export function spawnCli(args: string[], options: SpawnCliOptions = {}): ChildProcess {
  if (!existsSync(CLI_MAIN)) {
    throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` first (npm test does it in pretest)`);
  }
  return spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a spawned CLI to exit and returns its exit code and output. */
export function waitForExit(child: ChildProcess): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
}
