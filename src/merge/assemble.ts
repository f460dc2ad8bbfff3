/**
 * Merge, the pure part: puts a record's translated cells back together
 * (chunks joined with their original separators, protected spans restored)
 * and decides, per language, whether the row is complete or rejected.
 */
import type { CellPlan, Occurrence } from '../split/cells.js';
import { joinChunks } from '../split/chunk.js';
import { restoreText, SENTINEL_PATTERN } from '../split/protect.js';
import type { UnitResult } from '../state/types.js';

export interface CellFailure {
  field: string;
  lang: string;
  reason: string;
  detail: string;
}

export type CellOutcome = { ok: true; text: string } | { ok: false; failure: CellFailure };

/** `results` are the cell's units for one language, in chunk order. */
export function assembleCell(plan: CellPlan, lang: string, results: readonly UnitResult[]): CellOutcome {
  const fail = (reason: string, detail: string): CellOutcome => ({ ok: false, failure: { field: plan.path, lang, reason, detail } });
  if (results.length !== plan.chunks.length)
    return fail('missing', `expected ${plan.chunks.length} chunk result(s), found ${results.length}`);
  const answers: string[] = [];
  for (const result of results) {
    if (result.status === 'done' && result.content !== null) {
      const answer = result.pack_key === null ? result.content : packedValue(result.content, result.pack_key);
      if (answer === undefined) return fail('pack_invalid', `the packed answer has no string for ${result.pack_key}`);
      answers.push(answer);
    } else if (result.status === 'rejected') return fail(result.reason ?? 'rejected', result.detail ?? '');
    else return fail('pending', 'not translated yet; run again to finish');
  }
  const joined = joinChunks(answers, plan.chunks);
  const restored = restoreText(joined, plan.spans);
  // The placeholders check already retried or rejected broken answers; when it
  // is turned off, restore what can be restored and keep the rest as written.
  const text = restored.ok
    ? restored.text
    : joined.replace(SENTINEL_PATTERN, (sentinel, index: string) => plan.spans[Number(index)] ?? sentinel);
  return { ok: true, text };
}

export interface RowTranslation {
  /** lang → cell → translated text, for the languages whose every cell succeeded. */
  complete: Map<string, Map<number, string>>;
  /** lang → failures, for the others. */
  failed: Map<string, CellFailure[]>;
}

/** Groups a row's unit results by (cell, lang) and assembles every cell in every language. */
export function translateRow(
  occurrences: readonly Occurrence[],
  languages: readonly string[],
  results: readonly UnitResult[],
): RowTranslation {
  const byCellLang = new Map<string, UnitResult[]>();
  for (const result of results) {
    const key = `${result.cell}\u0000${result.lang}`;
    const list = byCellLang.get(key);
    if (list) list.push(result);
    else byCellLang.set(key, [result]);
  }
  const translation: RowTranslation = { complete: new Map(), failed: new Map() };
  for (const lang of languages) {
    const texts = new Map<number, string>();
    const failures: CellFailure[] = [];
    for (const { plan } of occurrences) {
      if (!plan) continue;
      const outcome = assembleCell(plan, lang, byCellLang.get(`${plan.cell}\u0000${lang}`) ?? []);
      if (outcome.ok) texts.set(plan.cell, outcome.text);
      else failures.push(outcome.failure);
    }
    if (failures.length === 0) translation.complete.set(lang, texts);
    else translation.failed.set(lang, failures);
  }
  return translation;
}

/** A packed answer was verified when collected; a run dir from elsewhere may still disagree. */
function packedValue(content: string, key: string): string | undefined {
  try {
    const value = (JSON.parse(content) as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
