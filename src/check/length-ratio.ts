import { codePointLength, withoutSentinels } from './text.js';
import type { Check } from './types.js';

// Short texts vary too much in length across languages to judge.
const MIN_SOURCE_CHARS = 20;

const visible = (text: string) => codePointLength(withoutSentinels(text).replace(/\s+/g, ' ').trim());

/** Catches answers that dropped most of the text or rambled on, by length outside sentinels. */
export const lengthRatio: Check = ({ sent, answer }, { lengthRatio: { min, max } }) => {
  const sentLength = visible(sent);
  if (sentLength < MIN_SOURCE_CHARS) return null;
  const ratio = visible(answer) / sentLength;
  if (ratio >= min && ratio <= max) return null;
  return `the answer is ${Number(ratio.toFixed(2))}× the source length (allowed ${min}–${max})`;
};
