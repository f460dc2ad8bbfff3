/**
 * `init`, part two (pure): which profiled paths are text worth translating,
 * and which column is the row id. Ids, URLs, numbers, enums (`role`,
 * `status`) and very short values are left out, each with a reason.
 */
import type { FieldStats } from './inspect.js';

export interface FieldVerdict {
  stats: FieldStats;
  translate: boolean;
  /** Why it was left out, or "text". */
  why: string;
}

/** Strings shorter than this on average are labels, not text, unless they hold words. */
export const MIN_MEAN_LENGTH = 8;

const METADATA_KEY =
  /^(?:id|uuid|guid|key|slug|hash|sha\d*|md5|url|uri|link|href|email|e_?mail|lang|language|locale|role|type|kind|status|state|date|datetime|time|timestamp|created|updated|created_at|updated_at|source|license|split)$/i;
const METADATA_SUFFIX = /(?:_id|Id|_ids|_url|_uri|_at|_date|_time|_lang|_type)$/;

export function meanLength(stats: FieldStats): number {
  return stats.nonEmpty === 0 ? 0 : stats.totalLength / stats.nonEmpty;
}

export function nonEmptyShare(stats: FieldStats): number {
  return stats.values === 0 ? 0 : stats.nonEmpty / stats.values;
}

function lastKey(path: string): string {
  return /([^.[\]]+)(?:\[\*\])*$/.exec(path)?.[1] ?? path;
}

export function judgeField(stats: FieldStats): FieldVerdict {
  const verdict = (translate: boolean, why: string): FieldVerdict => ({ stats, translate, why });
  if (stats.strings === 0) return verdict(false, 'not text');
  if (stats.nonEmpty === 0) return verdict(false, 'always empty');
  const key = lastKey(stats.path);
  if (METADATA_KEY.test(key) || METADATA_SUFFIX.test(key)) return verdict(false, 'id or metadata key');
  if (stats.urlsOrEmails >= stats.nonEmpty * 0.5) return verdict(false, 'URLs or emails');
  if (stats.idLike >= stats.nonEmpty * 0.8) return verdict(false, 'ids, numbers or dates');
  const mean = meanLength(stats);
  const distinct = stats.distinct.size;
  if (!stats.manyDistinct && stats.nonEmpty >= 4 && distinct <= 20 && distinct <= stats.nonEmpty * 0.5 && mean < 40) {
    return verdict(false, `few distinct values (${distinct})`);
  }
  if (mean < MIN_MEAN_LENGTH && stats.withSpaces < stats.nonEmpty * 0.5) return verdict(false, 'short values');
  return verdict(true, 'text');
}

/**
 * The fields to translate: every path judged text; when none is, the string
 * path with the longest mean (so the config still runs, for the user to edit).
 */
export function chooseFields(fields: readonly FieldStats[]): { verdicts: FieldVerdict[]; chosen: string[] } {
  const verdicts = fields.map(judgeField);
  let chosen = verdicts.filter((verdict) => verdict.translate).map((verdict) => verdict.stats.path);
  if (chosen.length === 0) {
    const longest = verdicts.filter((verdict) => verdict.stats.nonEmpty > 0).sort((a, b) => meanLength(b.stats) - meanLength(a.stats))[0];
    if (longest) chosen = [longest.stats.path];
  }
  return { verdicts, chosen };
}

/** A top-level `id`-style column present once and unique in every sampled row, else undefined. */
export function chooseIdField(fields: readonly FieldStats[], rows: number): string | undefined {
  const candidates = fields.filter((stats) => rows > 0 && stats.idValues !== null && stats.values === rows && stats.idValues.size === rows);
  return (candidates.find((stats) => stats.path === 'id') ?? candidates[0])?.path;
}
