/**
 * Split, part one: a record's translatable cells. A cell is one occurrence of
 * a configured field path holding a non-empty string; its text is protected
 * (spans swapped for sentinels) and chunked. The plan depends only on the
 * record and the config, so merge recomputes it instead of storing it.
 */
import type { ProtectKind } from '../config/schema.js';
import { type Chunk, chunkText } from './chunk.js';
import { getOccurrences, type PathSegment, parseFieldPath } from './paths.js';
import { protectText } from './protect.js';

export interface SplitSettings {
  fields: readonly { pattern: string; segments: readonly PathSegment[] }[];
  protect: readonly ProtectKind[];
  maxChunkTokens: number;
}

export function splitSettings(config: {
  fields: readonly string[];
  split: { protect: readonly ProtectKind[]; max_chunk_tokens: number };
}): SplitSettings {
  return {
    fields: config.fields.map((pattern) => ({ pattern, segments: parseFieldPath(pattern) })),
    protect: config.split.protect,
    maxChunkTokens: config.split.max_chunk_tokens,
  };
}

export interface CellPlan {
  /** Index among the record's field occurrences (translatable or not), stable for a given record. */
  cell: number;
  /** Concrete path, e.g. `messages[2].content`. */
  path: string;
  /** The configured pattern it came from, e.g. `messages[*].content`. */
  field: string;
  source: string;
  /** Original text of each protected span; sentinel i stands for spans[i]. */
  spans: string[];
  chunks: Chunk[];
}

/** Every field occurrence, in config then document order; `translatable` ones carry a plan. */
export interface Occurrence {
  cell: number;
  path: string;
  field: string;
  value: unknown;
  plan: CellPlan | null;
}

export function occurrencesOf(record: unknown, settings: SplitSettings): Occurrence[] {
  const occurrences: Occurrence[] = [];
  let cell = 0;
  for (const field of settings.fields) {
    for (const { path, value } of getOccurrences(record, field.segments)) {
      const index = cell++;
      const plan = typeof value === 'string' && value.trim() !== '' ? planCell(index, path, field.pattern, value, settings) : null;
      occurrences.push({ cell: index, path, field: field.pattern, value, plan });
    }
  }
  return occurrences;
}

export function planCells(record: unknown, settings: SplitSettings): CellPlan[] {
  return occurrencesOf(record, settings).flatMap((occurrence) => (occurrence.plan ? [occurrence.plan] : []));
}

function planCell(cell: number, path: string, field: string, source: string, settings: SplitSettings): CellPlan {
  const { text, spans } = protectText(source, settings.protect);
  return { cell, path, field, source, spans, chunks: chunkText(text, settings.maxChunkTokens) };
}

/** The configured pattern a concrete path came from (`messages[2].content` → `messages[*].content`). */
export function fieldPatternOf(settings: SplitSettings, path: string): string {
  for (const field of settings.fields) {
    const pattern = field.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('\\[\\*\\]', '\\[\\d+\\]');
    if (new RegExp(`^${pattern}$`).test(path)) return field.pattern;
  }
  return path;
}
