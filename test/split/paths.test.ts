import { describe, expect, it } from 'vitest';
import type { DataRecord } from '../../src/read/types.js';
import { type FieldOccurrence, getAt, getOccurrences, insertSiblingAfter, parseFieldPath, setAt } from '../../src/split/paths.js';

const occurrences = (record: unknown, pattern: string): FieldOccurrence[] => getOccurrences(record, parseFieldPath(pattern));

/** A record with every shape the paths must handle. */
function sample() {
  return {
    instruction: 'Say hi',
    meta: { title: 'T', '0': 'zero-key', ключ: 'ru', 한국어: { 제목: 'ko' } },
    messages: [
      { role: 'system', content: 'Be brief' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi', extra: [1, 2] },
    ],
    conversations: [{ from: 'human', value: 'Q' }, { from: 'gpt' }],
    grid: [{ rows: [{ c: 'a' }, { c: 'b' }] }, { rows: [] }, { rows: [{ c: 'c' }] }],
    'key with spaces/and:symbols': 'weird',
    nothing: null,
  };
}

describe('parseFieldPath', () => {
  it.each([
    ['instruction', [{ kind: 'key', key: 'instruction' }]],
    [
      'meta.title',
      [
        { kind: 'key', key: 'meta' },
        { kind: 'key', key: 'title' },
      ],
    ],
    ['messages[*].content', [{ kind: 'key', key: 'messages' }, { kind: 'each' }, { kind: 'key', key: 'content' }]],
    [
      'a[0].b',
      [
        { kind: 'key', key: 'a' },
        { kind: 'index', index: 0 },
        { kind: 'key', key: 'b' },
      ],
    ],
    [
      'a[*].b[12].c',
      [{ kind: 'key', key: 'a' }, { kind: 'each' }, { kind: 'key', key: 'b' }, { kind: 'index', index: 12 }, { kind: 'key', key: 'c' }],
    ],
    ['m[*][0]', [{ kind: 'key', key: 'm' }, { kind: 'each' }, { kind: 'index', index: 0 }]],
    [
      'meta.0',
      [
        { kind: 'key', key: 'meta' },
        { kind: 'key', key: '0' },
      ],
    ],
    [
      '한국어.제목',
      [
        { kind: 'key', key: '한국어' },
        { kind: 'key', key: '제목' },
      ],
    ],
    ['key with spaces/and:symbols', [{ kind: 'key', key: 'key with spaces/and:symbols' }]],
  ])('parses %s', (path, segments) => {
    expect(parseFieldPath(path)).toEqual(segments);
  });

  it.each(['', '.a', 'a.', 'a..b', '[0]', 'a[', 'a[x]', 'a[-1]', 'a[]', 'a]b', 'a[0]b', 'a.[0]'])('rejects %j', (path) => {
    expect(() => parseFieldPath(path)).toThrow(TypeError);
  });
});

describe('getOccurrences', () => {
  it.each([
    ['instruction', [{ path: 'instruction', value: 'Say hi' }]],
    ['meta.title', [{ path: 'meta.title', value: 'T' }]],
    ['meta.0', [{ path: 'meta.0', value: 'zero-key' }]],
    ['meta.ключ', [{ path: 'meta.ключ', value: 'ru' }]],
    ['meta.한국어.제목', [{ path: 'meta.한국어.제목', value: 'ko' }]],
    [
      'messages[*].content',
      [
        { path: 'messages[0].content', value: 'Be brief' },
        { path: 'messages[1].content', value: 'Hello' },
        { path: 'messages[2].content', value: 'Hi' },
      ],
    ],
    ['messages[1].content', [{ path: 'messages[1].content', value: 'Hello' }]],
    ['conversations[*].value', [{ path: 'conversations[0].value', value: 'Q' }]],
    [
      'grid[*].rows[*].c',
      [
        { path: 'grid[0].rows[0].c', value: 'a' },
        { path: 'grid[0].rows[1].c', value: 'b' },
        { path: 'grid[2].rows[0].c', value: 'c' },
      ],
    ],
    [
      'messages[2].extra[*]',
      [
        { path: 'messages[2].extra[0]', value: 1 },
        { path: 'messages[2].extra[1]', value: 2 },
      ],
    ],
    ['nothing', [{ path: 'nothing', value: null }]],
    ['missing', []],
    ['messages[9].content', []],
    ['instruction[*]', []],
    ['instruction.x', []],
    ['meta[*]', []],
    ['messages.0', []],
    ['nothing.x', []],
    ['toString', []],
    ['meta.constructor', []],
  ])('%s', (pattern, expected) => {
    expect(occurrences(sample(), pattern)).toEqual(expected);
  });

  it('yields nothing for non-object records', () => {
    expect(occurrences(null, 'a')).toEqual([]);
    expect(occurrences('text', 'a')).toEqual([]);
  });
});

describe('getAt / setAt', () => {
  it.each([
    ['instruction', 'Say hi'],
    ['meta.0', 'zero-key'],
    ['meta.한국어.제목', 'ko'],
    ['messages[2].extra[1]', 2],
    ['grid[2].rows[0].c', 'c'],
    ['missing.deep', undefined],
    ['messages[7].content', undefined],
    ['instruction.length', undefined],
  ])('getAt %s', (path, value) => {
    expect(getAt(sample(), path)).toEqual(value);
  });

  it('refuses wildcard paths', () => {
    expect(() => getAt(sample(), 'messages[*].content')).toThrow(TypeError);
  });

  type Edit = (record: ReturnType<typeof sample>) => void;
  it.each<[string, unknown, Edit]>([
    [
      'instruction',
      'Dis bonjour',
      (r) => {
        r.instruction = 'Dis bonjour';
      },
    ],
    [
      'meta.ключ',
      'RU',
      (r) => {
        r.meta['ключ'] = 'RU';
      },
    ],
    [
      'messages[1].content',
      '안녕',
      (r) => {
        r.messages[1]!.content = '안녕';
      },
    ],
    [
      'grid[0].rows[1].c',
      'B',
      (r) => {
        r.grid[0]!.rows[1]!.c = 'B';
      },
    ],
    [
      'messages[2].extra[0]',
      'one',
      (r) => {
        (r.messages[2]!.extra as unknown[])[0] = 'one';
      },
    ],
  ])('setAt %s changes that value only, keys keep their order', (path, value, edit) => {
    const record = sample();
    setAt(record, path, value);
    expect(getAt(record, path)).toBe(value);
    const expected = sample();
    edit(expected);
    expect(record).toEqual(expected);
    expect(JSON.stringify(record)).toBe(JSON.stringify(expected));
  });

  it('adds a missing key at the end of an existing parent', () => {
    const record: DataRecord = { a: { x: 1 }, b: 2 };
    setAt(record, 'a.y', 'new');
    expect(JSON.stringify(record)).toBe('{"a":{"x":1,"y":"new"},"b":2}');
  });

  it.each(['missing.deep', 'messages[7].content', 'instruction.x', 'messages[9]', 'meta[0]'])('setAt %s throws: no such parent', (path) => {
    expect(() => setAt(sample(), path, 'v')).toThrow(TypeError);
  });
});

describe('insertSiblingAfter', () => {
  it('puts the sibling right after a top-level key, reordering the record in place', () => {
    const record: DataRecord = { instruction: 'a', output: 'b' };
    insertSiblingAfter(record, 'instruction', 'instruction_ko', 'X');
    expect(JSON.stringify(record)).toBe('{"instruction":"a","instruction_ko":"X","output":"b"}');
  });

  it('works inside array elements and leaves the rest untouched', () => {
    const record = sample();
    const messages = record['messages'] as DataRecord[];
    const untouched = messages[0];
    insertSiblingAfter(record, 'messages[1].content', 'content_ko', '안녕');
    expect(JSON.stringify(record['messages'])).toBe(
      '[{"role":"system","content":"Be brief"},{"role":"user","content":"Hello","content_ko":"안녕"},{"role":"assistant","content":"Hi","extra":[1,2]}]',
    );
    expect((record['messages'] as DataRecord[])[0]).toBe(untouched);
    const { messages: _a, ...rest } = record;
    const { messages: _b, ...expectedRest } = sample();
    expect(JSON.stringify(rest)).toBe(JSON.stringify(expectedRest));
  });

  it('moves an existing sibling to its new position', () => {
    const record: DataRecord = { title_ko: 'old', title: 't', body: 'b' };
    insertSiblingAfter(record, 'title', 'title_ko', 'new');
    expect(JSON.stringify(record)).toBe('{"title":"t","title_ko":"new","body":"b"}');
  });

  it('appends after the last key and handles nested objects', () => {
    const record: DataRecord = { meta: { a: 1, title: 't' }, z: 0 };
    insertSiblingAfter(record, 'meta.title', 'title_ko', 'T');
    expect(JSON.stringify(record)).toBe('{"meta":{"a":1,"title":"t","title_ko":"T"},"z":0}');
  });

  it('puts the sibling last when the anchor key is absent', () => {
    const record: DataRecord = { a: 1 };
    insertSiblingAfter(record, 'b', 'b_ko', 'x');
    expect(JSON.stringify(record)).toBe('{"a":1,"b_ko":"x"}');
  });

  it.each(['missing.title', 'messages[1]', 'instruction.x'])('throws for %s', (path) => {
    expect(() => insertSiblingAfter(sample(), path, 'k', 'v')).toThrow(TypeError);
  });
});
