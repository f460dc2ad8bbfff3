/**
 * Shows what the stages report (src/wait/progress.ts): a bar per stage on a
 * TTY (prepare, upload, wait with an ETA, download, merge), a plain line per
 * stage at most every few seconds elsewhere (CI logs stay readable), nothing
 * with --quiet. Colours only on a TTY and never with NO_COLOR.
 *
 * Bars of stages that run together (upload, wait, download) share one block;
 * the block is closed once every shown stage is complete, so a prompt or a
 * summary never lands under a live bar. Log lines written while bars are live
 * go through `log`, which prints them above the bars.
 */
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { ProgressReporter, StageName, StageUpdate, WaitCounts } from '../wait/progress.js';

export interface CliProgress extends ProgressReporter {
  /** Prints a line above live bars (or plainly when none are live). */
  log(line: string): void;
}

export interface ProgressOptions {
  stream: Writable;
  tty: boolean;
  quiet: boolean;
  /** Colour the bars (a TTY without NO_COLOR). */
  colour?: boolean;
  /** Plain mode: at most one line per stage this often (default 5 s). */
  plainEveryMs?: number;
}

const UNITS: Record<StageName, string> = { prepare: 'rows', upload: 'shards', wait: 'requests', download: 'batches', merge: 'rows' };
const LABEL_WIDTH = 8;

export function createProgress(options: ProgressOptions): CliProgress {
  if (options.quiet) return { update: () => {}, stage: () => {}, stop: () => {}, log: () => {} };
  const reporter = options.tty ? barReporter(options) : plainReporter(options);
  return {
    ...reporter,
    update: (counts) => reporter.stage(waitUpdate(counts)),
  };
}

function waitUpdate(counts: WaitCounts): StageUpdate & { detail: string } {
  return {
    stage: 'wait',
    done: counts.requestsCompleted + counts.requestsFailed,
    total: counts.requestsTotal,
    detail:
      counts.batchesInFlight + counts.batchesDone > 0
        ? `${counts.requestsFailed} failed | batches ${counts.batchesInFlight} running, ${counts.batchesDone} done`
        : `${counts.requestsFailed} failed`,
  };
}

function detailOf(update: StageUpdate & { detail?: string }): string {
  const parts: string[] = [];
  if (update.bytes) parts.push(`${formatBytes(update.bytes.done)}/${formatBytes(update.bytes.total)}`);
  if (update.detail) parts.push(update.detail);
  return parts.join(', ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

interface Reporter {
  stage(update: StageUpdate & { detail?: string }): void;
  stop(): void;
  log(line: string): void;
}

function barReporter(options: ProgressOptions): Reporter {
  const colour = options.colour ?? false;
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[39m` : text);
  let block: cliProgress.MultiBar | undefined;
  const bars = new Map<StageName, { bar: cliProgress.SingleBar; complete: boolean }>();

  const close = () => {
    if (!block) return;
    block.stop();
    block = undefined;
    bars.clear();
  };
  const format = (stage: StageName, total: number | undefined) => {
    const label = paint(36, stage.padEnd(LABEL_WIDTH));
    // The ETA before the detail: a narrow terminal cuts the end of the line.
    const eta = stage === 'wait' ? ' | ETA {eta_formatted}' : '';
    if (total === undefined) return `${label} {value} ${UNITS[stage]}{detail}`;
    return `${label} ${paint(32, '{bar}')} {value}/{total} ${UNITS[stage]}${eta}{detail}`;
  };

  return {
    stage: (update) => {
      const detail = detailOf(update);
      const payload = { detail: detail ? ` | ${detail}` : '' };
      const complete = update.total !== undefined && update.done >= update.total;
      let entry = bars.get(update.stage);
      if (!entry) {
        block ??= new cliProgress.MultiBar(
          {
            stream: options.stream as NodeJS.WriteStream,
            hideCursor: true,
            clearOnComplete: false,
            gracefulExit: false,
            etaBuffer: 20,
            barsize: 24,
          },
          cliProgress.Presets.shades_classic,
        );
        const bar = block.create(update.total ?? 0, update.done, payload, { format: format(update.stage, update.total) });
        entry = { bar, complete };
        bars.set(update.stage, entry);
      } else {
        if (update.total !== undefined) entry.bar.setTotal(update.total);
        entry.bar.update(update.done, payload);
        entry.complete = complete;
      }
      // Streaming stages (no total) end when they report their total.
      if ([...bars.values()].every((b) => b.complete)) close();
    },
    stop: close,
    log: (line) => {
      if (block) block.log(`${line}\n`);
      else options.stream.write(`${line}\n`);
    },
  };
}

function plainReporter(options: ProgressOptions): Reporter {
  const every = options.plainEveryMs ?? 5000;
  const last = new Map<StageName, { at: number; text: string }>();
  return {
    stage: (update) => {
      const total = update.total === undefined ? '' : `/${update.total}`;
      const detail = detailOf(update);
      const text = `${update.stage}: ${update.done}${total} ${UNITS[update.stage]}${detail ? ` (${detail})` : ''}`;
      const complete = update.total !== undefined && update.done >= update.total;
      // A stage's first report only starts its clock: a quick stage prints one line, when complete.
      const previous = last.get(update.stage) ?? { at: Date.now(), text: '' };
      const now = Date.now();
      if (previous.text === text || (!complete && now - previous.at < every)) {
        if (!last.has(update.stage)) last.set(update.stage, previous);
        return;
      }
      last.set(update.stage, { at: now, text });
      options.stream.write(`${text}\n`);
    },
    stop: () => {},
    log: (line) => options.stream.write(`${line}\n`),
  };
}
