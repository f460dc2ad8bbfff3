/**
 * What a command needs from the outside world, passed in so the CLI runs
 * in-process in tests: argv, environment, output streams, a TTY flag.
 */
import type { Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** stderr is an interactive terminal: progress bars and prompts allowed. */
  isTty: boolean;
  /** Aborted on Ctrl-C: long waits stop cleanly and the run stays resumable. */
  signal: AbortSignal;
}

export function processIo(signal: AbortSignal): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, isTty: Boolean(process.stderr.isTTY), signal };
}

/** Exit codes from SPEC.md. */
export const EXIT = { ok: 0, failed: 1, rejected: 2, pending: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
