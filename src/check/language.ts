import { readsAs } from './detect.js';
import { letterCount, withoutSentinels } from './text.js';
import type { Check } from './types.js';

/** The answer must read as the target language; too-short answers are not judged. */
export const language: Check = ({ answer, lang }, { languageMinChars }) => {
  const text = withoutSentinels(answer);
  if (letterCount(text) < languageMinChars) return null;
  const verdict = readsAs(text, lang);
  return verdict.matches ? null : `detected ${verdict.detected}, expected ${lang}`;
};
