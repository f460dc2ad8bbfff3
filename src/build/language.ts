/** Language names for prompts: models follow "Korean" better than "ko". */

const displayNames = new Intl.DisplayNames(['en'], { type: 'language' });

/** A per-language value keyed by code, matched exactly first, then case-insensitively ("pt-br" → "pt-BR"). */
export function byLanguage(table: Readonly<Record<string, string>>, code: string): string | undefined {
  if (Object.hasOwn(table, code)) return table[code];
  const lower = code.toLowerCase();
  const key = Object.keys(table).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : table[key];
}

/** The config's override, else the English name ("pt-BR" → "Brazilian Portuguese"), else the code itself. */
export function languageName(code: string, overrides: Record<string, string>): string {
  const override = byLanguage(overrides, code);
  if (override !== undefined) return override;
  let name = englishNames.get(code);
  if (name === undefined) {
    try {
      name = displayNames.of(code) ?? code;
    } catch {
      name = code;
    }
    englishNames.set(code, name);
  }
  return name;
}

/** Intl lookups are slow next to the rest of a prompt build; the set of codes in a run is tiny. */
const englishNames = new Map<string, string>();
