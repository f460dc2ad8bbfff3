/**
 * Protected spans the pseudo engine must leave byte-for-byte intact: our
 * sentinels, code, URLs, e-mails, placeholders, HTML/XML and LaTeX math.
 * (Local to the emulator: src/split/protect.ts did not exist when it was written.)
 */
import type { ProtectKind } from '../../config/schema.js';

export type SpanKind = ProtectKind | 'sentinel';

export interface Span {
  start: number;
  end: number;
  kind: SpanKind;
}

/** Ordered so that, at the same start, the enclosing construct wins. */
const PATTERNS: readonly { kind: SpanKind; trigger: RegExp; regex: RegExp }[] = [
  { kind: 'code', trigger: /```|~~~/, regex: /(?<=^|\n)[ \t]*(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:\n[ \t]*\1[`~]*[ \t]*(?=\n|$)|$)/g },
  { kind: 'sentinel', trigger: /⟦/, regex: /⟦\d+⟧/g },
  { kind: 'code', trigger: /`/, regex: /`[^`\n]+`/g },
  { kind: 'math', trigger: /\$\$|\\[[(]/, regex: /\$\$[\s\S]+?\$\$|\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)/g },
  {
    kind: 'placeholders',
    trigger: /[{%]/,
    regex: /\$\{[^{}\n]*\}|\{\{[^{}\n]*\}\}|\{[A-Za-z0-9_.:,# -]*\}|%(?:\([A-Za-z0-9_]+\))?[-+#0]*\d*(?:\.\d+)?[sdifxXoeEgGcru%@]/g,
  },
  { kind: 'math', trigger: /\$/, regex: /\$[^$\s][^$\n]*?\$/g },
  {
    kind: 'urls',
    trigger: /:\/\/|www\./,
    regex: /\b(?:https?|ftp):\/\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]]|\bwww\.[^\s<>"'`]*[^\s<>"'`.,;:!?)\]]/g,
  },
  { kind: 'emails', trigger: /@/, regex: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g },
  {
    kind: 'html',
    trigger: /[<&]/,
    regex: /<!--[\s\S]*?-->|<\/?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?\/?>|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);/g,
  },
];

/** Non-overlapping spans, sorted by start; earlier and longer matches win. */
export function findSpans(text: string): Span[] {
  const found: Span[] = [];
  for (const { kind, trigger, regex } of PATTERNS) {
    // Cheap pre-check: most texts contain none of most constructs.
    if (!trigger.test(text)) continue;
    regex.lastIndex = 0;
    for (const match of text.matchAll(regex)) {
      if (match[0].length > 0) found.push({ start: match.index, end: match.index + match[0].length, kind });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Span[] = [];
  let cursor = 0;
  for (const span of found) {
    if (span.start < cursor) continue;
    kept.push(span);
    cursor = span.end;
  }
  return kept;
}
