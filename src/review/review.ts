/**
 * `transbatch review`: reads a run (never changes it) and writes
 * `<run_dir>/review.html`, flagged rows first, then a bounded sample.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../config/types.js';
import { TransbatchError } from '../errors.js';
import { openWorkspace } from '../run/workspace.js';
import { renderReviewPage } from './html.js';
import { gatherReviewRows } from './rows.js';
import { buildSummary, type ReviewSummary } from './summary.js';

export const REVIEW_FILE = 'review.html';

export interface ReviewOptions {
  /** Unflagged rows to sample (default 200). */
  sample?: number;
  /** Flagged rows to show at most (default 2000). */
  maxFlagged?: number;
  onProgress?: (rows: number) => void;
}

export interface ReviewResult {
  path: string;
  summary: ReviewSummary;
}

export async function writeReview(config: PipelineConfig, options: ReviewOptions = {}): Promise<ReviewResult> {
  const sample = options.sample ?? 200;
  const maxFlagged = options.maxFlagged ?? 2000;
  for (const [name, value] of [
    ['--sample', sample],
    ['--max-flagged', maxFlagged],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new TransbatchError('usage', `${name}: expected a whole number >= 0, got ${value}`);
  }
  const workspace = await openWorkspace(config, { readOnly: true });
  try {
    const { state } = workspace;
    if (state.getMeta('prepared') === undefined) {
      throw new TransbatchError(
        'state',
        `nothing to review in ${config.runDir}: the run has not been prepared yet; run \`transbatch run\` first`,
      );
    }
    const rows = await gatherReviewRows(config, state, {
      sample,
      maxFlagged,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const summary = buildSummary(config, state, rows);
    const path = join(config.runDir, REVIEW_FILE);
    await writeFile(`${path}.tmp`, renderReviewPage(summary, [...rows.flagged, ...rows.sampled]));
    await rename(`${path}.tmp`, path);
    return { path, summary };
  } finally {
    workspace.close();
  }
}
