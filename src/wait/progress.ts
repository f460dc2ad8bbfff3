/**
 * Progress while waiting: a live bar with request counts on a TTY, a plain
 * line at most every `plainEveryMs` elsewhere (CI logs stay readable).
 */

import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

export interface WaitCounts {
  batchesInFlight: number;
  batchesDone: number;
  requestsTotal: number;
  requestsCompleted: number;
  requestsFailed: number;
}

export interface ProgressReporter {
  update(counts: WaitCounts): void;
  stop(): void;
}

export function createWaitProgress(options: { stream: Writable; tty: boolean; quiet: boolean; plainEveryMs?: number }): ProgressReporter {
  if (options.quiet) return { update: () => {}, stop: () => {} };
  if (options.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: options.stream as NodeJS.WriteStream,
        format:
          'waiting |{bar}| {value}/{total} requests | {failed} failed | batches {inflight} in flight, {done} done | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (counts) => {
        const payload = { failed: counts.requestsFailed, inflight: counts.batchesInFlight, done: counts.batchesDone };
        if (!started) {
          bar.start(counts.requestsTotal, counts.requestsCompleted + counts.requestsFailed, payload);
          started = true;
        } else {
          bar.setTotal(counts.requestsTotal);
          bar.update(counts.requestsCompleted + counts.requestsFailed, payload);
        }
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  const every = options.plainEveryMs ?? 10_000;
  let last = 0;
  let lastText = '';
  return {
    update: (counts) => {
      const text = `waiting: ${counts.requestsCompleted + counts.requestsFailed}/${counts.requestsTotal} requests (${counts.requestsFailed} failed), batches ${counts.batchesInFlight} in flight, ${counts.batchesDone} done`;
      const now = Date.now();
      if (text === lastText || now - last < every) return;
      last = now;
      lastText = text;
      options.stream.write(`${text}\n`);
    },
    stop: () => {},
  };
}
