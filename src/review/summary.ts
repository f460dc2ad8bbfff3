/**
 * The review page's summary: counts, tokens and cost from report.json when the
 * run wrote one, else from the run state; time per stage from the event log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineConfig } from '../config/types.js';
import { costUsd, priceOf } from '../cost/prices.js';
import type { RunReport } from '../run/report.js';
import type { RunState } from '../state/run-state.js';
import type { GatheredRows } from './rows.js';

export interface StageTime {
  stage: string;
  ms: number;
}

export interface ReviewSummary {
  name: string;
  model: string;
  fields: string[];
  languages: string[];
  runDir: string;
  generatedAt: string;
  finished: boolean;
  rowsIn: number;
  /** Output rows per language (every cell translated). */
  rowsOut: Record<string, number>;
  rowsRejected: number;
  rejectsByReason: Record<string, number>;
  requests: { total: number; done: number; rejected: number; cached: number; waiting: number };
  tokens: { input: number; output: number };
  costUsdBatch: number | null;
  /** Where counts, tokens and cost came from. */
  source: 'report.json' | 'run state';
  stages: StageTime[];
  shown: { flagged: number; flaggedTotal: number; sampled: number };
}

export function buildSummary(config: PipelineConfig, state: RunState, rows: GatheredRows, now = new Date()): ReviewSummary {
  const report = readReport(config.runDir);
  const counts = state.requestCounts();
  const totals = state.tokenTotals();
  const price = priceOf(config.model, config.cost.price);
  return {
    name: config.name,
    model: config.model,
    fields: [...config.fields],
    languages: [...config.target_languages],
    runDir: config.runDir,
    generatedAt: now.toISOString(),
    finished: state.getMeta('finished') !== undefined,
    rowsIn: rows.rowsIn,
    rowsOut: rows.translatedByLang,
    rowsRejected: rows.rowsRejected,
    rejectsByReason: report?.rejects_by_reason ?? rows.rejectsByReason,
    requests: {
      total: report?.requests.total ?? totals.requests,
      done: report?.requests.done ?? counts.done,
      rejected: report?.requests.rejected ?? counts.rejected,
      cached: report?.requests.cached ?? totals.cached,
      waiting: counts.queued + counts.retry,
    },
    tokens: report?.tokens ?? { input: totals.promptTokens, output: totals.completionTokens },
    costUsdBatch: report ? report.cost_usd_batch : price ? costUsd(price, totals.promptTokens, totals.completionTokens, true) : null,
    source: report ? 'report.json' : 'run state',
    stages: stageTimes(state.events()),
    shown: { flagged: rows.flagged.length, flaggedTotal: rows.flaggedTotal, sampled: rows.sampled.length },
  };
}

function readReport(runDir: string): RunReport | undefined {
  const path = join(runDir, 'report.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

/**
 * Wall-clock time per stage, from the event log: prepare (prepare.started →
 * prepare.finished), submit + wait (first upload → last batch collected),
 * merge (last merge.started → merge.finished), and the whole run. Resumed runs
 * include the time the process was not running: it is what a user waited.
 */
export function stageTimes(events: readonly { at: string; type: string }[]): StageTime[] {
  const first = (type: string | RegExp) => events.find((event) => matches(event.type, type));
  const last = (type: string | RegExp) => events.findLast((event) => matches(event.type, type));
  const span = (stage: string, from: { at: string } | undefined, to: { at: string } | undefined): StageTime[] => {
    if (!from || !to) return [];
    const ms = Date.parse(to.at) - Date.parse(from.at);
    return Number.isFinite(ms) && ms >= 0 ? [{ stage, ms }] : [];
  };
  const submitStart = first(/^(upload\.started|batch\.create\.marked)$/);
  const lastMerge = last('merge.started');
  const mergeEnd = lastMerge
    ? events.find((event) => event.type === 'merge.finished' && Date.parse(event.at) >= Date.parse(lastMerge.at))
    : undefined;
  return [
    ...span('prepare', first('prepare.started'), first('prepare.finished')),
    ...span('submit + wait', submitStart, last(/^batch\.(collected|failed)$/)),
    ...span('merge', lastMerge, mergeEnd),
    ...span('total', first('run.started'), last('merge.finished')),
  ];
}

function matches(type: string, pattern: string | RegExp): boolean {
  return typeof pattern === 'string' ? type === pattern : pattern.test(type);
}
