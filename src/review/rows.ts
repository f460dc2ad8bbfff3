/**
 * The rows a review page shows, gathered in one pass: the input is streamed
 * beside the run state's units (both in row order, like merge), every row is
 * classified (rejected, retried, pending, protected-span differences), and
 * only the flagged rows (up to maxFlagged) and a bounded deterministic sample
 * of the others are kept.
 */
import type { PipelineConfig } from '../config/types.js';
import { assembleCell } from '../merge/assemble.js';
import { joinRowsWithUnits } from '../merge/join-rows.js';
import { readRecords } from '../read/index.js';
import type { DataRecord } from '../read/types.js';
import { occurrencesOf, splitSettings } from '../split/cells.js';
import type { RunState } from '../state/run-state.js';
import type { RequestStatus, UnitResult } from '../state/types.js';
import { BottomKSample } from './sample.js';
import { markCell, type Segment } from './spans.js';

export type RowFlag = 'rejected' | 'retried' | 'pending' | 'differences';

export interface ReviewCell {
  path: string;
  field: string;
  lang: string;
  status: 'done' | 'rejected' | 'pending';
  reason?: string;
  detail?: string;
  attempts: number;
  source: Segment[];
  translation: Segment[] | null;
  differences: number;
}

export interface ReviewRow {
  row: number;
  id: string | null;
  flags: RowFlag[];
  /** Reasons of the row's failed or retried requests (`http_400`, `check:placeholders`…). */
  reasons: string[];
  attempts: number;
  cells: ReviewCell[];
}

export interface GatheredRows {
  flagged: ReviewRow[];
  /** Flagged rows in the run, including those beyond maxFlagged. */
  flaggedTotal: number;
  sampled: ReviewRow[];
  rowsIn: number;
  /** Rows translated in every cell, per language. */
  translatedByLang: Record<string, number>;
  /** Rows with at least one rejected cell. */
  rowsRejected: number;
  /** Rejected (row, language) pairs by reason, like report.json. */
  rejectsByReason: Record<string, number>;
}

export interface GatherOptions {
  sample: number;
  maxFlagged: number;
  onProgress?: (rows: number) => void;
}

interface ReviewUnit extends UnitResult {
  attempts: number;
}

/** Units with their request's result and attempts, in (row, cell, lang, chunk) order. */
function reviewUnits(state: RunState): IterableIterator<ReviewUnit> {
  return state.db
    .prepare(
      `SELECT u.row, u.cell, u.lang, u.chunk, COALESCE(o.status, 'queued') AS status, o.content, o.reason, o.detail, u.pack_key,
         r.attempts + COALESCE(s.counted, 0) AS attempts
       FROM units u JOIN requests r ON r.id = u.request_id LEFT JOIN outcomes o ON o.request_id = r.id LEFT JOIN shards s ON s.number = r.shard
       ORDER BY u.row, u.cell, u.lang, u.chunk`,
    )
    .iterate() as IterableIterator<ReviewUnit>;
}

const FLAG_ORDER: readonly RowFlag[] = ['rejected', 'retried', 'pending', 'differences'];

export async function gatherReviewRows(config: PipelineConfig, state: RunState, options: GatherOptions): Promise<GatheredRows> {
  const split = splitSettings(config);
  const languages = config.target_languages;
  // One bucket per flag, each bounded, so rejected rows are never crowded out by milder flags.
  const buckets = new Map<RowFlag, ReviewRow[]>(FLAG_ORDER.map((flag) => [flag, []]));
  const sample = new BottomKSample<ReviewRow>(options.sample);
  const gathered: GatheredRows = {
    flagged: [],
    flaggedTotal: 0,
    sampled: [],
    rowsIn: 0,
    translatedByLang: Object.fromEntries(languages.map((lang) => [lang, 0])),
    rowsRejected: 0,
    rejectsByReason: {},
  };
  const records = readRecords(config.input.path, config.input.format);
  for await (const { index, record, units: rowUnits } of joinRowsWithUnits(records, reviewUnits(state))) {
    const built = buildRow(index, record, rowUnits);
    const row = built.row;
    for (const lang of languages) {
      const failures = built.failedByLang.get(lang);
      if (!failures) gathered.translatedByLang[lang] = (gathered.translatedByLang[lang] ?? 0) + 1;
      for (const reason of failures?.rejected ?? []) gathered.rejectsByReason[reason] = (gathered.rejectsByReason[reason] ?? 0) + 1;
    }
    if (row.flags.includes('rejected')) gathered.rowsRejected++;
    const first = row.flags[0];
    if (first) {
      gathered.flaggedTotal++;
      const bucket = buckets.get(first)!;
      if (bucket.length < options.maxFlagged) bucket.push(row);
    } else {
      sample.offer(index, () => row);
    }
    gathered.rowsIn++;
    if (gathered.rowsIn % 5000 === 0) options.onProgress?.(gathered.rowsIn);
  }
  gathered.flagged = FLAG_ORDER.flatMap((flag) => buckets.get(flag) ?? []).slice(0, options.maxFlagged);
  gathered.sampled = sample.values();
  return gathered;

  function buildRow(index: number, record: DataRecord, rowUnits: readonly ReviewUnit[]) {
    const byCellLang = new Map<string, ReviewUnit[]>();
    for (const unit of rowUnits) {
      const key = `${unit.cell}\u0000${unit.lang}`;
      const list = byCellLang.get(key);
      if (list) list.push(unit);
      else byCellLang.set(key, [unit]);
    }
    const cells: ReviewCell[] = [];
    const reasons = new Set<string>();
    const failedByLang = new Map<string, { rejected: string[] }>();
    let attempts = 0;
    for (const { plan } of occurrencesOf(record, split)) {
      if (!plan) continue;
      for (const lang of languages) {
        const results = byCellLang.get(`${plan.cell}\u0000${lang}`) ?? [];
        const cellAttempts = results.reduce((max, unit) => Math.max(max, unit.attempts), 0);
        attempts = Math.max(attempts, cellAttempts);
        for (const unit of results) if (unit.reason && unit.status !== 'done') reasons.add(unit.reason);
        const outcome = assembleCell(plan, lang, results);
        const status = cellStatus(outcome.ok, results);
        if (!outcome.ok) {
          const failed = failedByLang.get(lang) ?? { rejected: [] };
          if (status === 'rejected') failed.rejected.push(outcome.failure.reason);
          failedByLang.set(lang, failed);
        }
        const marked = markCell(plan.source, outcome.ok ? outcome.text : null, split.protect);
        cells.push({
          path: plan.path,
          field: plan.field,
          lang,
          status,
          ...(outcome.ok ? {} : { reason: outcome.failure.reason, detail: outcome.failure.detail }),
          attempts: cellAttempts,
          source: marked.source,
          translation: marked.translation,
          differences: marked.differences,
        });
      }
    }
    const flags = FLAG_ORDER.filter((flag) => {
      if (flag === 'rejected') return cells.some((cell) => cell.status === 'rejected');
      if (flag === 'retried') return attempts > 1;
      if (flag === 'pending') return cells.some((cell) => cell.status === 'pending');
      return cells.some((cell) => cell.differences > 0);
    });
    const idValue = config.input.id !== undefined ? record[config.input.id] : undefined;
    const id = idValue === undefined || idValue === null ? null : typeof idValue === 'string' ? idValue : JSON.stringify(idValue);
    const row: ReviewRow = { row: index, id, flags, reasons: [...reasons].sort(), attempts, cells };
    return { row, failedByLang };
  }
}

function cellStatus(ok: boolean, results: readonly { status: RequestStatus }[]): ReviewCell['status'] {
  if (ok) return 'done';
  return results.some((unit) => unit.status === 'rejected') ? 'rejected' : 'pending';
}
