import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type KeyOverflow, RequestIndex } from '../../src/build/request-index.js';

/** Keys as prepare passes them: 16 bytes as a binary string. */
const keyOf = (text: string) => createHash('sha256').update(text).digest().subarray(0, 16).toString('latin1');

/** A run state stand-in: request id → full key, plus an overflow table. */
function fixture(maxSlots?: number) {
  const keys = new Map<number, string>();
  const spilled = new Map<string, number>();
  const overflow: KeyOverflow = {
    find: (key) => spilled.get(key),
    insert: (key, id) => void spilled.set(key, id),
  };
  const reads = { count: 0 };
  const index = new RequestIndex(
    (id) => {
      reads.count++;
      return keys.get(id);
    },
    overflow,
    maxSlots === undefined ? {} : { maxSlots },
  );
  const add = (key: string, id: number) => {
    keys.set(id, key);
    index.remember(key, id);
  };
  return { index, add, spilled, reads };
}

describe('RequestIndex (dedupe keys in memory)', () => {
  it('finds every remembered key across table growth, and nothing else', () => {
    const { index, add } = fixture();
    for (let id = 1; id <= 200_000; id++) add(keyOf(`text ${id}`), id);
    for (let id = 1; id <= 200_000; id += 997) expect(index.find(keyOf(`text ${id}`))).toBe(id);
    expect(index.find(keyOf('text 200001'))).toBeUndefined();
    expect(index.find(keyOf('never seen'))).toBeUndefined();
  });

  it('confirms a fingerprint match against the full key: a different key with the same first bytes is not a duplicate', () => {
    const { index, add } = fixture();
    const original = keyOf('original');
    add(original, 1);
    const impostor = original.slice(0, 15) + String.fromCharCode(original.charCodeAt(15) ^ 0xff);
    expect(index.find(impostor)).toBeUndefined();
    add(impostor, 2);
    expect(index.find(impostor)).toBe(2);
    expect(index.find(original)).toBe(1);
  });

  it('past its memory bound, keeps new keys in the overflow table and still finds them all', () => {
    const { index, add, spilled } = fixture(1 << 16);
    for (let id = 1; id <= 60_000; id++) add(keyOf(`text ${id}`), id);
    expect(spilled.size).toBe(60_000 - Math.floor((1 << 16) * 0.7));
    for (let id = 1; id <= 60_000; id += 101) expect(index.find(keyOf(`text ${id}`))).toBe(id);
    expect(index.find(keyOf('never seen'))).toBeUndefined();
  });

  it('reads a key back for about one probe in 256 (the tag), not for every lookup', () => {
    const { index, add, reads } = fixture();
    for (let id = 1; id <= 40_000; id++) add(keyOf(`text ${id}`), id);
    reads.count = 0;
    for (let n = 0; n < 100_000; n++) expect(index.find(keyOf(`other ${n}`))).toBeUndefined();
    expect(reads.count).toBeLessThan(100_000 * 0.05);
  });

  it('keeps an id past 24 bits in the overflow table', () => {
    const { index, add, spilled } = fixture();
    add(keyOf('small id'), 7);
    add(keyOf('large id'), 2 ** 24);
    expect(spilled.size).toBe(1);
    expect(index.find(keyOf('large id'))).toBe(2 ** 24);
    expect(index.find(keyOf('small id'))).toBe(7);
  });
});
