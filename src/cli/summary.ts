/** The human summary printed when a run or merge finishes. */
import { relative } from 'node:path';
import type { PipelineConfig } from '../config/types.js';
import type { MergeSummary } from '../merge/merge.js';
import type { RunReport } from '../run/report.js';

export function describeFinished(config: PipelineConfig, report: RunReport, merge: MergeSummary): string[] {
  const shown = (path: string) => relative(process.cwd(), path) || path;
  const lines = [`${report.rows_in} rows in; ${report.rows_complete} fully translated into ${config.target_languages.join(', ')}`];
  for (const file of merge.files) {
    lines.push(
      `  wrote ${shown(file.path)} (${file.rows} rows)${file.rejected > 0 ? `; ${file.rejected} rejected → ${shown(file.rejectsPath)}` : ''}`,
    );
  }
  const reasons = Object.entries(report.rejects_by_reason);
  if (reasons.length > 0) lines.push(`  rejected cells by reason: ${reasons.map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
  lines.push(`  report: ${shown(`${config.runDir}/report.json`)}`);
  return lines;
}
