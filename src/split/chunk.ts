/**
 * Chunking of long texts into pieces a model translates well: cut at blank
 * lines first, then at sentence ends and line breaks, then at any whitespace.
 * Cuts happen only inside whitespace runs (or right after CJK full stops), so a
 * sentinel `⟦n⟧` or a word is never split, and the whitespace at each cut is
 * kept verbatim as the chunk's separator: joining gives back the text exactly.
 */
import { countTokens, tokenUpperBound } from './tokens.js';

export interface Chunk {
  text: string;
  /** The exact source text between this chunk and the next ('' for the last). */
  separator: string;
}

type Cut = [start: number, end: number];

interface Piece {
  text: string;
  separator: string;
  tokens: number;
}

function whitespaceRuns(text: string): Cut[] {
  return Array.from(text.matchAll(/\s+/g), (m): Cut => [m.index, m.index + m[0].length]);
}

const lineBreaks = (text: string, [start, end]: Cut) => text.slice(start, end).split('\n').length - 1;

const SENTENCE_END = new Set(['.', '!', '?', '…', '。', '！', '？']);
const CLOSERS = new Set(['"', "'", '”', '’', '»', ')', ']', '」', '』']);
// CJK sentences end without a following space: cut right after the full stop.
const CJK_SENTENCE_END = /(?<=[。！？])(?=\S)/g;

function endsSentence(text: string, at: number): boolean {
  let i = at - 1;
  while (i > 0 && CLOSERS.has(text[i]!)) i--;
  return SENTENCE_END.has(text[i]!);
}

const paragraphCuts = (text: string): Cut[] => whitespaceRuns(text).filter((cut) => lineBreaks(text, cut) >= 2);

const sentenceCuts = (text: string): Cut[] => [
  ...whitespaceRuns(text).filter((cut) => lineBreaks(text, cut) >= 1 || endsSentence(text, cut[0])),
  ...Array.from(text.matchAll(CJK_SENTENCE_END), (m): Cut => [m.index, m.index]),
];

const LEVELS: ReadonlyArray<(text: string) => Cut[]> = [paragraphCuts, sentenceCuts, whitespaceRuns];

/** Splits `text` into pieces that fit, going one level finer only where needed. */
function splitToFit(text: string, separator: string, level: number, tokensOf: (s: string) => number, maxTokens: number): Piece[] {
  const tokens = tokensOf(text);
  const cutsAt = LEVELS[level];
  if (tokens <= maxTokens || !cutsAt) return [{ text, separator, tokens }];
  // A cut at either edge would leave an empty piece; that whitespace stays in the text.
  const inner = cutsAt(text)
    .filter(([start, end]) => start > 0 && end < text.length)
    .sort((a, b) => a[0] - b[0]);
  if (inner.length === 0) return splitToFit(text, separator, level + 1, tokensOf, maxTokens);

  const pieces: Piece[] = [];
  let from = 0;
  for (const [start, end] of inner) {
    pieces.push(...splitToFit(text.slice(from, start), text.slice(start, end), level + 1, tokensOf, maxTokens));
    from = end;
  }
  pieces.push(...splitToFit(text.slice(from), separator, level + 1, tokensOf, maxTokens));
  return pieces;
}

/**
 * Greedy packing: sum the pieces' token counts to find a candidate chunk, then
 * count it exactly and give back pieces while it is over (tokenizers are not
 * exactly additive across a join).
 */
function pack(pieces: readonly Piece[], maxTokens: number, count: (s: string) => number): Chunk[] {
  const chunks: Chunk[] = [];
  const joined = (from: number, to: number) =>
    pieces
      .slice(from, to + 1)
      .map((p, i) => (from + i === to ? p.text : p.text + p.separator))
      .join('');
  let i = 0;
  while (i < pieces.length) {
    let j = i;
    let estimate = pieces[i]!.tokens;
    while (j + 1 < pieces.length) {
      const next = estimate + tokenUpperBound(pieces[j]!.separator) + pieces[j + 1]!.tokens;
      if (next > maxTokens) break;
      estimate = next;
      j++;
    }
    let text = joined(i, j);
    while (j > i && tokenUpperBound(text) > maxTokens && count(text) > maxTokens) text = joined(i, --j);
    chunks.push({ text, separator: pieces[j]!.separator });
    i = j + 1;
  }
  return chunks;
}

export function chunkText(text: string, maxTokens: number, count: (s: string) => number = countTokens): Chunk[] {
  if (tokenUpperBound(text) <= maxTokens || count(text) <= maxTokens) return [{ text, separator: '' }];
  const tokensOf = (s: string) => (s.length === 0 ? 0 : count(s));
  return pack(splitToFit(text, '', 0, tokensOf, maxTokens), maxTokens, count);
}

/** Reassembles translated chunks with the source's own separators. */
export function joinChunks(translated: readonly string[], chunks: readonly Chunk[]): string {
  if (translated.length !== chunks.length) {
    throw new RangeError(`joinChunks: expected ${chunks.length} translated chunks, got ${translated.length}`);
  }
  return translated.map((text, i) => text + chunks[i]!.separator).join('');
}
