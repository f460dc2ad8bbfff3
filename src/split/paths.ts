import type { DataRecord } from '../read/types.js';

/**
 * Field paths: `instruction`, `meta.title`, `messages[*].content`, `a[0].b`.
 * Keys may hold any character except `.`, `[` and `]`. Patterns (with `[*]`)
 * select occurrences; concrete paths (indexes only) address one value.
 */
export type PathSegment = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'each' };

export interface FieldOccurrence {
  /** The concrete path of this value, wildcards replaced: `messages[2].content`. */
  path: string;
  value: unknown;
}

export function parseFieldPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const fail = (why: string): never => {
    throw new TypeError(`Invalid field path ${JSON.stringify(path)}: ${why}`);
  };
  let i = 0;
  let expectKey = true;
  while (i < path.length) {
    if (expectKey) {
      let end = i;
      while (end < path.length && path[end] !== '.' && path[end] !== '[' && path[end] !== ']') end++;
      if (end === i) fail(`expected a key at offset ${i}`);
      segments.push({ kind: 'key', key: path.slice(i, end) });
      i = end;
      expectKey = false;
      continue;
    }
    const ch = path[i];
    if (ch === '.') {
      i++;
      expectKey = true;
      if (i === path.length) fail('expected a key after "."');
    } else if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close === -1) fail(`unclosed "[" at offset ${i}`);
      const inner = path.slice(i + 1, close);
      if (inner === '*') segments.push({ kind: 'each' });
      else if (/^\d+$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) });
      else fail(`expected "[*]" or "[<number>]" at offset ${i}`);
      i = close + 1;
    } else {
      fail(`unexpected ${JSON.stringify(ch)} at offset ${i}`);
    }
  }
  if (segments.length === 0) fail('empty path');
  return segments;
}

export function formatFieldPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (segment.kind === 'key') out += out === '' ? segment.key : '.' + segment.key;
    else if (segment.kind === 'index') out += `[${segment.index}]`;
    else out += '[*]';
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(object: object, key: string): boolean {
  return Object.hasOwn(object, key);
}

/** Every value matching the pattern, in document order; absent parts yield nothing. */
export function getOccurrences(record: unknown, segments: readonly PathSegment[]): FieldOccurrence[] {
  const found: FieldOccurrence[] = [];
  const visit = (value: unknown, depth: number, prefix: string): void => {
    const segment = segments[depth];
    if (segment === undefined) {
      found.push({ path: prefix, value });
      return;
    }
    if (segment.kind === 'key') {
      if (!isPlainObject(value) || !hasOwn(value, segment.key)) return;
      visit(value[segment.key], depth + 1, prefix === '' ? segment.key : `${prefix}.${segment.key}`);
    } else if (segment.kind === 'index') {
      if (!Array.isArray(value) || segment.index >= value.length) return;
      visit(value[segment.index], depth + 1, `${prefix}[${segment.index}]`);
    } else {
      if (!Array.isArray(value)) return;
      for (let index = 0; index < value.length; index++) visit(value[index], depth + 1, `${prefix}[${index}]`);
    }
  };
  if (segments.length > 0) visit(record, 0, '');
  return found;
}

// Merge resolves the same few concrete paths for every row, so parse each once.
// Bounded: cleared when full, which costs only re-parsing.
const CACHE_LIMIT = 4096;
const concreteCache = new Map<string, PathSegment[]>();

function parseConcrete(path: string): PathSegment[] {
  let segments = concreteCache.get(path);
  if (segments === undefined) {
    segments = parseFieldPath(path);
    if (segments.some((segment) => segment.kind === 'each')) {
      throw new TypeError(`Expected a concrete field path without [*], got ${JSON.stringify(path)}`);
    }
    if (concreteCache.size >= CACHE_LIMIT) concreteCache.clear();
    concreteCache.set(path, segments);
  }
  return segments;
}

function step(container: unknown, segment: PathSegment): unknown {
  if (segment.kind === 'key') return isPlainObject(container) && hasOwn(container, segment.key) ? container[segment.key] : undefined;
  if (segment.kind === 'index') return Array.isArray(container) ? container[segment.index] : undefined;
  return undefined;
}

/** The value at a concrete path, or undefined when any part is missing. */
export function getAt(record: unknown, concretePath: string): unknown {
  let value = record;
  for (const segment of parseConcrete(concretePath)) {
    value = step(value, segment);
    if (value === undefined) return undefined;
  }
  return value;
}

/** The container holding the last segment; throws when a parent is missing. */
function parentOf(record: DataRecord, segments: readonly PathSegment[], concretePath: string): unknown {
  let value: unknown = record;
  for (let i = 0; i < segments.length - 1; i++) {
    value = step(value, segments[i]!);
    if (value === undefined) throw new TypeError(`Cannot set ${JSON.stringify(concretePath)}: its parent does not exist`);
  }
  return value;
}

/** Replaces (or adds) the value at a concrete path in place; an existing key keeps its position. */
export function setAt(record: DataRecord, concretePath: string, value: unknown): void {
  const segments = parseConcrete(concretePath);
  const parent = parentOf(record, segments, concretePath);
  const last = segments[segments.length - 1]!;
  if (last.kind === 'key' && isPlainObject(parent)) {
    parent[last.key] = value;
  } else if (last.kind === 'index' && Array.isArray(parent) && last.index < parent.length) {
    parent[last.index] = value;
  } else {
    throw new TypeError(`Cannot set ${JSON.stringify(concretePath)}: the parent is not a matching object or array`);
  }
}

/**
 * Puts `siblingKey: value` right after the last key of `concretePath`, in the
 * same object, rebuilding that object's key order in place (the object keeps
 * its identity). An existing `siblingKey` moves to the new position. When the
 * anchor key is absent the sibling goes last. JavaScript always lists
 * integer-like keys ("0", "12") first, so those cannot be positioned.
 */
export function insertSiblingAfter(record: DataRecord, concretePath: string, siblingKey: string, value: unknown): void {
  const segments = parseConcrete(concretePath);
  const last = segments[segments.length - 1]!;
  if (last.kind !== 'key') throw new TypeError(`Cannot insert a sibling after ${JSON.stringify(concretePath)}: it does not end with a key`);
  const parent = parentOf(record, segments, concretePath);
  if (!isPlainObject(parent))
    throw new TypeError(`Cannot insert a sibling after ${JSON.stringify(concretePath)}: the parent is not an object`);
  if (siblingKey === last.key) {
    parent[siblingKey] = value;
    return;
  }
  delete parent[siblingKey];
  if (!hasOwn(parent, last.key)) {
    parent[siblingKey] = value;
    return;
  }
  // Re-append the keys after the anchor so the sibling lands right behind it.
  const keys = Object.keys(parent);
  const after = keys.slice(keys.indexOf(last.key) + 1);
  const moved = after.map((key) => [key, parent[key]] as const);
  for (const key of after) delete parent[key];
  parent[siblingKey] = value;
  for (const [key, moving] of moved) parent[key] = moving;
}
