/** Language identification for the checks, with tinyld (offline, statistical). */
import { detectAll } from 'tinyld';
import { primaryLanguage } from './text.js';

export type LanguageVerdict = { matches: true } | { matches: false; detected: string };

/**
 * Whether `text` reads as `lang`. Close calls count as a match: similar
 * languages (es/pt, da/no) score near each other, and a false reject costs a
 * retry. An empty detection is no evidence either way, so it matches too.
 */
export function readsAs(text: string, lang: string): LanguageVerdict {
  const candidates = detectAll(text);
  const top = candidates[0];
  if (!top) return { matches: true };
  const expected = primaryLanguage(lang);
  const close = candidates.some((c) => primaryLanguage(c.lang) === expected && c.accuracy >= top.accuracy / 2);
  return close ? { matches: true } : { matches: false, detected: top.lang };
}
