/**
 * Review, the pure part for one cell: the source and its translation cut into
 * segments, protected spans (code, URLs, placeholders, tags…) marked on both
 * sides, and the spans that did not survive translation marked as differences.
 */
import type { ProtectKind } from '../config/schema.js';
import { findProtectedSpans } from '../split/protect.js';

/**
 * A piece of text: plain text is a bare string; a protected span is
 * `[text, kind, diff]`, where diff 1 means the span is missing from the other
 * side (in the source) or is not one of the source's spans (in the translation).
 */
export type Segment = string | [text: string, kind: string, diff: 0 | 1];

export interface MarkedCell {
  source: Segment[];
  /** null when there is no translation to show (rejected or pending). */
  translation: Segment[] | null;
  /** Source spans missing from the translation plus translation spans the source does not have. */
  differences: number;
}

interface Span {
  start: number;
  end: number;
  kind: string;
}

export function markCell(source: string, translation: string | null, kinds: readonly ProtectKind[]): MarkedCell {
  const sourceSpans: Span[] = findProtectedSpans(source, kinds);
  if (translation === null) return { source: toSegments(source, sourceSpans, () => 0), translation: null, differences: 0 };

  const sourceTexts = sourceSpans.map((span) => source.slice(span.start, span.end));
  const translationSpans = spansInTranslation(translation, kinds, new Set(sourceTexts));

  // A source span is kept when the translation has it as often as the source does.
  const available = countTexts(translationSpans.map((span) => translation.slice(span.start, span.end)));
  const sourceMissing = sourceTexts.map((text) => {
    const left = available.get(text) ?? 0;
    if (left > 0) {
      available.set(text, left - 1);
      return 0 as const;
    }
    return 1 as const;
  });
  const wanted = countTexts(sourceTexts);
  const translationExtra = translationSpans.map((span) => {
    const text = translation.slice(span.start, span.end);
    const left = wanted.get(text) ?? 0;
    if (left > 0) {
      wanted.set(text, left - 1);
      return 0 as const;
    }
    return 1 as const;
  });
  const differences = sourceMissing.reduce<number>((sum, d) => sum + d, 0) + translationExtra.reduce<number>((sum, d) => sum + d, 0);
  return {
    source: toSegments(source, sourceSpans, (index) => sourceMissing[index] ?? 0),
    translation: toSegments(translation, translationSpans, (index) => translationExtra[index] ?? 0),
    differences,
  };
}

/**
 * The translation's own protected spans, plus literal copies of source spans
 * that the finders would not see there (a placeholder glued to Hangul, say).
 */
function spansInTranslation(translation: string, kinds: readonly ProtectKind[], sourceTexts: ReadonlySet<string>): Span[] {
  const spans: Span[] = findProtectedSpans(translation, kinds);
  const covered = (start: number, end: number) => spans.some((span) => start < span.end && span.start < end);
  const longestFirst = [...sourceTexts].sort((a, b) => b.length - a.length);
  for (const text of longestFirst) {
    for (let at = translation.indexOf(text); at >= 0; at = translation.indexOf(text, at + text.length)) {
      if (!covered(at, at + text.length)) spans.push({ start: at, end: at + text.length, kind: 'literal' });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

function countTexts(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return counts;
}

function toSegments(text: string, spans: readonly Span[], diffOf: (index: number) => 0 | 1): Segment[] {
  const segments: Segment[] = [];
  let cursor = 0;
  spans.forEach((span, index) => {
    if (span.start > cursor) segments.push(text.slice(cursor, span.start));
    segments.push([text.slice(span.start, span.end), span.kind, diffOf(index)]);
    cursor = span.end;
  });
  if (cursor < text.length) segments.push(text.slice(cursor));
  return segments;
}

/** The plain text of segments (for search and tests). */
export function segmentsText(segments: readonly Segment[]): string {
  return segments.map((segment) => (typeof segment === 'string' ? segment : segment[0])).join('');
}
