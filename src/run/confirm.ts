/**
 * The cost confirmation of `run`: before anything is uploaded, a run whose
 * estimated batch cost is above `cost.confirm_above_usd` asks "y/N" on a
 * terminal. Scripts (no TTY) are never asked: they use `--max-cost`, which
 * refuses instead of asking. `--yes` skips the question.
 *
 * `confirmDecision` is the pure rule; `askYesNo` the small I/O around it
 * (question on one stream, one answer line from another).
 */
import type { Readable, Writable } from 'node:stream';
import { formatUsd } from '../cost/estimate.js';

export interface ConfirmInput {
  /** The estimated batch cost of what is left to send; null when the model's price is unknown. */
  estimateUsd: number | null;
  /** `cost.confirm_above_usd`; undefined: never ask. */
  thresholdUsd: number | undefined;
  /** stderr is an interactive terminal. */
  isTty: boolean;
  /** `--yes`. */
  yes: boolean;
}

export type ConfirmDecision = { kind: 'proceed'; why: string } | { kind: 'ask'; question: string };

export function confirmDecision(input: ConfirmInput): ConfirmDecision {
  if (input.yes) return { kind: 'proceed', why: '--yes' };
  if (input.thresholdUsd === undefined) return { kind: 'proceed', why: 'no cost.confirm_above_usd' };
  if (!input.isTty) return { kind: 'proceed', why: 'not a terminal (use --max-cost in scripts)' };
  if (input.estimateUsd === null) {
    return { kind: 'ask', question: `The cost is unknown (no price for the model; set cost.price). Submit anyway? [y/N] ` };
  }
  if (input.estimateUsd <= input.thresholdUsd) return { kind: 'proceed', why: 'estimate within cost.confirm_above_usd' };
  return {
    kind: 'ask',
    question: `The estimated cost ${formatUsd(input.estimateUsd)} is above cost.confirm_above_usd ${formatUsd(input.thresholdUsd)}. Submit? [y/N] `,
  };
}

/** "y" or "yes" (any case, surrounding blanks ignored) is a yes; anything else is a no. */
export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}

export interface AskStreams {
  input: Readable;
  output: Writable;
  /** Aborted (Ctrl-C): the answer is no. */
  signal?: AbortSignal;
}

/**
 * Writes `question` to `output` and reads one line from `input`. Resolves
 * true only on a yes; a no, an empty line, end of input, an input error or
 * an abort resolve false. The input is paused afterwards (so stdin does not
 * keep the process alive) and left open.
 */
export function askYesNo(question: string, streams: AskStreams): Promise<boolean> {
  const { input, output, signal } = streams;
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    let buffered = '';
    const finish = (answer: boolean, endLine: boolean): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.off('error', onAbort);
      signal?.removeEventListener('abort', onAbort);
      input.pause();
      // A typed answer ends the prompt's line with the echoed newline; end of input or Ctrl-C does not.
      if (endLine) output.write('\n');
      resolve(answer);
    };
    const onData = (chunk: Buffer | string): void => {
      buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) finish(isYes(buffered.slice(0, newline)), false);
    };
    const onEnd = (): void => finish(isYes(buffered), true);
    const onAbort = (): void => finish(false, true);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('close', onEnd);
    input.once('error', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    output.write(question);
    input.resume();
  });
}
