/** Language identification for the checks, with tinyld (offline, statistical). */
import { createRequire } from 'node:module';
import { primaryLanguage } from './text.js';

type Tinyld = typeof import('tinyld');
// Loaded on first use: its models take ~50 MB, which processes that never judge a language should not pay.
let tinyld: Tinyld | undefined;
const detectAll: Tinyld['detectAll'] = (text, options) => {
  tinyld ??= createRequire(import.meta.url)('tinyld') as Tinyld;
  return tinyld.detectAll(text, options);
};

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
