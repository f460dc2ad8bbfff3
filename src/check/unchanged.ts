import { readsAs } from './detect.js';
import { letterCount, primaryLanguage, withoutSentinels } from './text.js';
import type { Check } from './types.js';

// Below this, an unchanged answer is usually right: names, brands, "OK", "iPhone 15".
const MIN_WORDS = 2;
const MIN_LETTERS = 8;

function isTranslatable(text: string): boolean {
  const words = text.match(/\p{L}{2,}/gu) ?? [];
  return words.length >= MIN_WORDS && letterCount(text) >= MIN_LETTERS;
}

/**
 * An answer identical to real prose we sent is an echo, not a translation —
 * unless the text already was in the target language (known from
 * source_language, else detected).
 */
export const unchanged: Check = ({ sent, answer, lang, sourceLang }) => {
  if (answer.trim() !== sent.trim()) return null;
  const text = withoutSentinels(sent);
  if (!isTranslatable(text)) return null;
  const alreadyTarget = sourceLang === undefined ? readsAs(text, lang).matches : primaryLanguage(sourceLang) === primaryLanguage(lang);
  return alreadyTarget ? null : 'the answer is identical to the source text';
};
