/**
 * What the stages report while they work. The library only calls these
 * hooks; how progress is shown (bars on a TTY, plain lines elsewhere,
 * nothing with --quiet) is the CLI's business: src/cli/progress.ts.
 */

export interface WaitCounts {
  batchesInFlight: number;
  batchesDone: number;
  requestsTotal: number;
  requestsCompleted: number;
  requestsFailed: number;
}

export type StageName = 'prepare' | 'upload' | 'wait' | 'download' | 'merge';

/** `done` of `total` (unknown while a stage streams, e.g. prepare counting rows). */
export interface StageUpdate {
  stage: StageName;
  done: number;
  total?: number;
  /** Bytes moved so far and in all, for upload and download. */
  bytes?: { done: number; total: number };
}

export interface ProgressReporter {
  /** Request counts while waiting for batches (or direct calls in sync mode). */
  update(counts: WaitCounts): void;
  /** Any other stage; optional so a reporter may show waiting only. */
  stage?(update: StageUpdate): void;
  stop(): void;
}

/** Reports nothing (library use, --quiet). */
export const silentProgress: ProgressReporter = { update: () => {}, stage: () => {}, stop: () => {} };
