/**
 * Pseudo-localization of one text: ASCII letters become accented look-alikes,
 * vowels are doubled (~30% longer), a marker is appended. Only letter runs
 * outside protected spans change, so markdown structure, whitespace and
 * punctuation stay exactly where they were. Pure and deterministic.
 */
import { PROTECT_KINDS } from '../../config/schema.js';
import { findProtectedSpans } from '../../split/protect.js';

export const PSEUDO_MARKER = '⟪ps⟫';

const LOOK_ALIKES: Record<string, string> = {
  a: 'á',
  b: 'ƀ',
  c: 'ç',
  d: 'ð',
  e: 'ë',
  g: 'ğ',
  h: 'ĥ',
  i: 'ï',
  j: 'ĵ',
  k: 'ķ',
  l: 'ł',
  n: 'ñ',
  o: 'ø',
  r: 'ŕ',
  s: 'š',
  t: 'ŧ',
  u: 'ü',
  w: 'ŵ',
  y: 'ý',
  z: 'ž',
  A: 'Å',
  C: 'Ç',
  D: 'Ð',
  E: 'Ë',
  G: 'Ğ',
  H: 'Ĥ',
  I: 'Ï',
  J: 'Ĵ',
  K: 'Ķ',
  L: 'Ł',
  N: 'Ñ',
  O: 'Ø',
  R: 'Ŕ',
  S: 'Š',
  T: 'Ŧ',
  U: 'Ü',
  W: 'Ŵ',
  Y: 'Ý',
  Z: 'Ž',
};
const VOWELS = new Set('aeiouAEIOU');

function pseudoWord(word: string): string {
  let out = '';
  for (const char of word) {
    const mapped = LOOK_ALIKES[char] ?? char;
    out += VOWELS.has(char) ? mapped + mapped : mapped;
  }
  return out;
}

function pseudoPlain(text: string): string {
  return text.replace(/[A-Za-z]+/g, pseudoWord);
}

/** Puts the marker before trailing whitespace, on its own line after a closing code fence. */
function appendMarker(text: string): string {
  const body = text.replace(/\s+$/, '');
  const trailing = text.slice(body.length);
  const lastLine = body.slice(body.lastIndexOf('\n') + 1);
  const separator = /^\s*(`{3,}|~{3,})/.test(lastLine) ? '\n' : body.length === 0 ? '' : ' ';
  return `${body}${separator}${PSEUDO_MARKER}${trailing}`;
}

export function pseudoLocalize(text: string): string {
  let out = '';
  let cursor = 0;
  for (const span of findProtectedSpans(text, PROTECT_KINDS)) {
    out += pseudoPlain(text.slice(cursor, span.start)) + text.slice(span.start, span.end);
    cursor = span.end;
  }
  out += pseudoPlain(text.slice(cursor));
  return appendMarker(out);
}
