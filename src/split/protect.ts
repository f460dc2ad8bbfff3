/**
 * Protection: spans the model must not translate (code, URLs, placeholders…)
 * are swapped for numbered sentinels `⟦0⟧`, `⟦1⟧`… before sending and put
 * back after. Sentinels carry digits only, so no language translates them.
 */
import type { ProtectKind } from '../config/schema.js';

export interface ProtectedSpan {
  start: number;
  end: number;
  kind: ProtectKind | 'sentinel';
}

export interface ProtectedText {
  /** The text with the i-th protected span replaced by `sentinel(i)`. */
  text: string;
  /** The original text of each span, by sentinel index. */
  spans: string[];
}

export type RestoreResult = { ok: true; text: string } | { ok: false; missing: number[]; unexpected: number[]; duplicated: number[] };

export const SENTINEL_PATTERN = /⟦(\d+)⟧/g;

export function sentinel(index: number): string {
  return `⟦${index}⟧`;
}

/** Sentinel indexes in order of appearance. */
export function sentinelsIn(text: string): number[] {
  return Array.from(text.matchAll(SENTINEL_PATTERN), (match) => Number(match[1]));
}

type Finder = (text: string) => Array<[start: number, end: number]>;

function regexFinder(...patterns: RegExp[]): Finder {
  return (text) =>
    patterns.flatMap((pattern) => Array.from(text.matchAll(pattern), (m): [number, number] => [m.index, m.index + m[0].length]));
}

function anyOf(...finders: Finder[]): Finder {
  return (text) => finders.flatMap((find) => find(text));
}

/**
 * Fenced code blocks. A backtick fence may open mid-line (LLM datasets often
 * write "Sure! ```python"), but then it needs a closing fence; an unclosed
 * fence at the start of a line runs to the end, as in CommonMark.
 */
const FENCE_OPEN = /(`{3,})[^`\n]*\n|(~{3,})[^\n]*\n/g;

function findFences(text: string): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  FENCE_OPEN.lastIndex = 0;
  for (let open = FENCE_OPEN.exec(text); open; open = FENCE_OPEN.exec(text)) {
    const fence = open[1] ?? open[2] ?? '```';
    const start = open.index;
    const body = start + open[0].length;
    const char = fence[0] === '~' ? '~' : '`';
    const close = new RegExp(`(?<!${char})${char}{${fence.length},}(?!${char})`, 'g');
    close.lastIndex = body;
    const closed = close.exec(text);
    const atLineStart = /^[ \t]*$/.test(text.slice(text.lastIndexOf('\n', start - 1) + 1, start));
    let end: number;
    if (closed) end = closed.index + closed[0].length;
    else if (atLineStart) end = text.length;
    else continue;
    found.push([start, end]);
    FENCE_OPEN.lastIndex = end;
  }
  return found;
}

// A code span: a run of n backticks closed by exactly n backticks on the same line.
const INLINE_CODE = /(?<!`)(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g;

/**
 * Text between an opening and the next closing delimiter. indexOf
 * rather than a lazy regex keeps it linear when closers are missing.
 */
function pairFinder(open: string, close: string, minContent = 1): Finder {
  return (text) => {
    const found: Array<[number, number]> = [];
    let from = 0;
    for (let start = text.indexOf(open, from); start >= 0; start = text.indexOf(open, from)) {
      const closeAt = text.indexOf(close, start + open.length + minContent);
      if (closeAt < 0) break;
      found.push([start, closeAt + close.length]);
      from = closeAt + close.length;
    }
    return found;
  };
}

const MATH: Finder[] = [
  pairFinder('$$', '$$'),
  // "$5 and $10" is money, not math: no space inside the dollars, no digit after.
  regexFinder(/(?<![\\$])\$(?![\s${])(?:[^$\n\\]|\\.)+?(?<![\s\\])\$(?![\d$])/g),
  pairFinder('\\(', '\\)'),
  pairFinder('\\[', '\\]'),
];

const URL_START = /\b(?:(?:https?|ftp):\/\/|www\.)[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/gi;

function balanced(url: string, open: string, close: string): boolean {
  return url.split(open).length >= url.split(close).length;
}

// Sentence punctuation after a URL belongs to the sentence; a closing bracket only when unbalanced.
function findUrls(text: string): Array<[number, number]> {
  return Array.from(text.matchAll(URL_START), (m): [number, number] => {
    let url = m[0];
    for (;;) {
      const last = url.at(-1);
      if (last !== undefined && ".,;:!?'*".includes(last)) url = url.slice(0, -1);
      else if (last === ')' && !balanced(url, '(', ')')) url = url.slice(0, -1);
      else if (last === ']' && !balanced(url, '[', ']')) url = url.slice(0, -1);
      else break;
    }
    return [m.index, m.index + url.length];
  }).filter(([start, end]) => end - start > 'www.'.length);
}

const EMAIL = /(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])/g;

const HTML: Finder[] = [
  pairFinder('<!--', '-->', 0),
  pairFinder('<![CDATA[', ']]>'),
  regexFinder(
    /<[!?][A-Za-z][^<>]*>/g,
    // A tag needs a letter right after "<", so "a < b" is left alone.
    /<\/?[A-Za-z][A-Za-z0-9:-]*(?:\s+[^\s=<>"'/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*\/?>/g,
    // Character references: a model would decode "&amp;" or "&nbsp;" and change the markup.
    /&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});/g,
  ),
];

// A bare printf conversion must end the word, so "30%off" stays prose.
const PLACEHOLDERS = [
  /\{\{[^{}\n]+\}\}/g,
  /\$\{[^{}\n]+\}/g,
  /\{(?:[A-Za-z_0-9][\w.-]*)?(?:[:!][^{}\s]*)?\}/g,
  /%\([^()\n]+\)[-+0#]*\d*(?:\.\d+)?[sdifFeEgGxXoucr]/g,
  /%(?:\d+\$)?[-+0#]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|ll|[hlLqjzt])?[sdifFeEgGxXoucr](?![A-Za-z])/g,
];

// Priority breaks ties between matches that start at the same place and have the same length.
// The trigger is a cheap test every match needs: most prose skips most finders (prepare's hot path).
const FINDERS: ReadonlyArray<[ProtectKind, Finder, trigger: (text: string) => boolean]> = [
  ['code', findFences, (text) => text.includes('```') || text.includes('~~~')],
  ['code', regexFinder(INLINE_CODE), (text) => text.includes('`')],
  ['math', anyOf(...MATH), (text) => text.includes('$') || text.includes('\\')],
  ['urls', findUrls, (text) => text.includes('://') || /www\./i.test(text)],
  ['emails', regexFinder(EMAIL), (text) => text.includes('@')],
  ['html', anyOf(...HTML), (text) => text.includes('<') || text.includes('&')],
  ['placeholders', regexFinder(...PLACEHOLDERS), (text) => text.includes('{') || text.includes('%')],
];

const SENTINEL_LIKE = regexFinder(SENTINEL_PATTERN);

/**
 * Spans to protect, sorted and non-overlapping: the earliest match wins, then
 * the longest, then the kind listed first. Text that already looks like a
 * sentinel is always protected, so restoring can never confuse it with ours.
 */
export function findProtectedSpans(text: string, kinds: readonly ProtectKind[]): ProtectedSpan[] {
  const candidates: Array<ProtectedSpan & { priority: number }> = [];
  FINDERS.forEach(([kind, find, trigger], priority) => {
    if (!kinds.includes(kind) || !trigger(text)) return;
    for (const [start, end] of find(text)) if (end > start) candidates.push({ start, end, kind, priority });
  });
  if (text.includes('⟦'))
    for (const [start, end] of SENTINEL_LIKE(text)) candidates.push({ start, end, kind: 'sentinel', priority: FINDERS.length });
  candidates.sort((a, b) => a.start - b.start || b.end - a.end || a.priority - b.priority);

  const spans: ProtectedSpan[] = [];
  let covered = 0;
  for (const { start, end, kind } of candidates) {
    if (start < covered) continue;
    spans.push({ start, end, kind });
    covered = end;
  }
  return spans;
}

export function protectText(text: string, kinds: readonly ProtectKind[]): ProtectedText {
  const spans: string[] = [];
  let out = '';
  let cursor = 0;
  for (const { start, end } of findProtectedSpans(text, kinds)) {
    out += text.slice(cursor, start) + sentinel(spans.length);
    spans.push(text.slice(start, end));
    cursor = end;
  }
  return { text: out + text.slice(cursor), spans };
}

/** Puts the spans back; refuses unless each sentinel 0..n-1 appears exactly once and no other does. */
export function restoreText(translated: string, spans: readonly string[]): RestoreResult {
  const counts = new Map<number, number>();
  for (const index of sentinelsIn(translated)) counts.set(index, (counts.get(index) ?? 0) + 1);
  const missing: number[] = [];
  const duplicated: number[] = [];
  for (let i = 0; i < spans.length; i++) {
    const count = counts.get(i) ?? 0;
    if (count === 0) missing.push(i);
    else if (count > 1) duplicated.push(i);
  }
  const unexpected = [...counts.keys()].filter((i) => !(i < spans.length)).sort((a, b) => a - b);
  if (missing.length > 0 || duplicated.length > 0 || unexpected.length > 0) return { ok: false, missing, unexpected, duplicated };
  // A replacer function, so "$&" in a span is inserted literally.
  return { ok: true, text: translated.replace(SENTINEL_PATTERN, (_, digits: string) => spans[Number(digits)] ?? '') };
}
