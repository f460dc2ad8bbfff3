/**
 * `init`, part one: streams the first rows of a dataset and gathers, for every
 * path that holds a value (nested ones as `meta.title`, `messages[*].content`),
 * how often it is a non-empty string, how long, and how varied.
 */
import type { DataFormat } from '../config/schema.js';
import { readRecords } from '../read/index.js';

/** Distinct values are tracked up to this many per path (enough to spot enums). */
const DISTINCT_LIMIT = 64;
const MAX_DEPTH = 8;
const MAX_PATHS = 1000;

export interface FieldStats {
  /** A field path in config syntax: `a.b`, `list[*].key`. */
  path: string;
  /** Rows in which the path occurs at least once. */
  rows: number;
  /** Values found (several per row under `[*]`). */
  values: number;
  strings: number;
  nonEmpty: number;
  /** Sum of the non-empty strings' lengths (UTF-16 units). */
  totalLength: number;
  /** Non-empty strings with a space or line break (words, not tokens). */
  withSpaces: number;
  urlsOrEmails: number;
  /** Non-empty strings that look like identifiers, numbers or dates (no spaces, a digit). */
  idLike: number;
  distinct: Set<string>;
  /** More than DISTINCT_LIMIT distinct values were seen. */
  manyDistinct: boolean;
  /** Every value seen, for top-level id-named keys only (to prove uniqueness); else null. */
  idValues: Set<string> | null;
}

export interface DatasetProfile {
  rows: number;
  /** The sample stopped before the end of the file. */
  truncated: boolean;
  /** In order of first appearance. */
  fields: FieldStats[];
}

export function emptyStats(path: string): FieldStats {
  return {
    path,
    rows: 0,
    values: 0,
    strings: 0,
    nonEmpty: 0,
    totalLength: 0,
    withSpaces: 0,
    urlsOrEmails: 0,
    idLike: 0,
    distinct: new Set(),
    manyDistinct: false,
    idValues: ID_NAME.test(path) ? new Set() : null,
  };
}

/** Top-level keys that may be the row id. */
export const ID_NAME = /^(?:id|uuid|guid|key|[A-Za-z0-9]+(?:_id|Id))$/;
const URL_OR_EMAIL = /^(?:(?:https?|ftp):\/\/\S+|www\.\S+|[\w.%+-]+@[\w-]+(?:\.[\w-]+)+)$/i;
const ID_LIKE = /^(?=.*\d)[\w.:/+#-]+$/;
// Keys that a field path cannot express.
const PLAIN_KEY = /^[^.[\]]+$/;

/** Adds one record's values to the profile's fields (pure, for tests and the streaming reader). */
export function profileRecord(record: unknown, fields: Map<string, FieldStats>): void {
  const seenInRow = new Set<string>();
  const stats = (path: string): FieldStats | undefined => {
    let found = fields.get(path);
    if (!found) {
      if (fields.size >= MAX_PATHS) return undefined;
      found = emptyStats(path);
      fields.set(path, found);
    }
    if (!seenInRow.has(path)) {
      seenInRow.add(path);
      found.rows++;
    }
    return found;
  };
  const visit = (value: unknown, path: string, depth: number): void => {
    if (Array.isArray(value)) {
      if (depth >= MAX_DEPTH) return;
      for (const item of value) visit(item, `${path}[*]`, depth + 1);
      return;
    }
    if (typeof value === 'object' && value !== null && !(value instanceof Date) && !(value instanceof Uint8Array)) {
      if (depth >= MAX_DEPTH) return;
      for (const [key, child] of Object.entries(value)) {
        if (PLAIN_KEY.test(key)) visit(child, path === '' ? key : `${path}.${key}`, depth + 1);
      }
      return;
    }
    // null is an absent value, not a type: it says nothing about the field.
    if (path === '' || path.startsWith('[') || value === null || value === undefined) return;
    const field = stats(path);
    if (!field) return;
    field.values++;
    if (field.idValues && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'))
      field.idValues.add(String(value));
    if (typeof value !== 'string') return;
    field.strings++;
    const text = value.trim();
    if (text === '') return;
    field.nonEmpty++;
    field.totalLength += value.length;
    if (/\s/.test(text)) field.withSpaces++;
    if (URL_OR_EMAIL.test(text)) field.urlsOrEmails++;
    else if (ID_LIKE.test(text)) field.idLike++;
    if (!field.manyDistinct) {
      field.distinct.add(text.length > 200 ? text.slice(0, 200) : text);
      if (field.distinct.size > DISTINCT_LIMIT) {
        field.manyDistinct = true;
        field.distinct.clear();
      }
    }
  };
  visit(record, '', 0);
}

export async function profileDataset(path: string, format: DataFormat, maxRows = 1000): Promise<DatasetProfile> {
  const fields = new Map<string, FieldStats>();
  let rows = 0;
  let truncated = false;
  for await (const { record } of readRecords(path, format)) {
    if (rows >= maxRows) {
      truncated = true;
      break;
    }
    profileRecord(record, fields);
    rows++;
  }
  return { rows, truncated, fields: [...fields.values()] };
}
