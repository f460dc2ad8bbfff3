/** Writes translations into a copy of the record: in place (`replace`) or as `<key>_<lang>` siblings (`columns`). */
import type { DataRecord } from '../read/types.js';
import type { Occurrence } from '../split/cells.js';
import { insertSiblingAfter, setAt } from '../split/paths.js';

export function applyReplace(record: DataRecord, occurrences: readonly Occurrence[], texts: ReadonlyMap<number, string>): DataRecord {
  const copy = structuredClone(record);
  for (const { cell, path } of occurrences) {
    const text = texts.get(cell);
    if (text !== undefined) setAt(copy, path, text);
  }
  return copy;
}

/**
 * Every occurrence gets a sibling per language, even untranslatable ones
 * (which keep their value), so every row has the same columns.
 */
export function applyColumns(
  record: DataRecord,
  occurrences: readonly Occurrence[],
  languages: readonly string[],
  textsByLang: ReadonlyMap<string, ReadonlyMap<number, string>>,
): DataRecord {
  const copy = structuredClone(record);
  for (const { cell, path, value } of occurrences) {
    const lastKey = lastKeyOf(path);
    // Insert in reverse so the languages end up in config order right after the source key.
    for (const lang of [...languages].reverse()) {
      insertSiblingAfter(copy, path, `${lastKey}_${lang}`, textsByLang.get(lang)?.get(cell) ?? value);
    }
  }
  return copy;
}

function lastKeyOf(path: string): string {
  const match = /([^.[\]]+)$/.exec(path);
  if (!match) throw new TypeError(`field path ${path} does not end in a key`);
  return match[1]!;
}
