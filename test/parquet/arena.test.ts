import { gzipSync } from 'node:zlib';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { MAX_SLAB, PageArena } from '../../src/read/parquet-arena.js';

const filled = (arena: PageArena, length: number, byte: number): Uint8Array => arena.alloc(length).fill(byte);

describe('PageArena', () => {
  it('keeps the range the caller is on while the next one is read, and reuses the one before', () => {
    const arena = new PageArena();
    arena.nextRange();
    const first = filled(arena, 1_000, 1);
    arena.nextRange();
    const second = filled(arena, 1_000, 2);
    expect(first.every((byte) => byte === 1)).toBe(true);
    expect(second.buffer).not.toBe(first.buffer);
    arena.nextRange();
    const third = filled(arena, 1_000, 3);
    expect(third.buffer).toBe(first.buffer);
    expect(third.byteOffset).toBe(first.byteOffset);
    expect(second.every((byte) => byte === 2)).toBe(true);
  });

  it('aligns pages to 8 bytes and keeps pages of one range apart', () => {
    const arena = new PageArena();
    arena.nextRange();
    const pages = [3, 17, 8, 1, 100].map((length, i) => filled(arena, length, i + 1));
    pages.forEach((page, i) => {
      expect(page.byteOffset % 8).toBe(0);
      expect(page.every((byte) => byte === i + 1)).toBe(true);
    });
  });

  it('settles at about two ranges of memory, however many ranges go through', () => {
    const arena = new PageArena();
    let largestRange = 0;
    for (let range = 0; range < 2_000; range++) {
      arena.nextRange();
      const sizes = [700_000 + ((range * 7_919) % 300_000), (range * 104_729) % 200_000];
      largestRange = Math.max(largestRange, sizes[0]! + sizes[1]! + 16);
      for (const size of sizes) arena.alloc(size);
    }
    expect(arena.capacity).toBeLessThanOrEqual(2 * 1.25 * largestRange + 64);
  });

  it('gives a page bigger than a slab a buffer of its own', () => {
    const arena = new PageArena();
    arena.nextRange();
    filled(arena, 1_000, 1);
    const before = arena.capacity;
    const big = arena.alloc(MAX_SLAB + 1);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(MAX_SLAB + 1);
    expect(arena.capacity).toBe(before);
  });

  it('decompresses SNAPPY and GZIP pages into its slabs', () => {
    const arena = new PageArena();
    const compressors = arena.compressors();
    const text = new TextEncoder().encode('안녕 😀 the quick brown fox '.repeat(500));
    arena.nextRange();
    const snappy = compressors.SNAPPY!(snappyCompress(text), text.length);
    const gzip = compressors.GZIP!(gzipSync(text), text.length);
    expect(snappy).toEqual(text);
    expect(gzip).toEqual(text);
    expect(gzip.buffer).toBe(snappy.buffer);
    expect(() => compressors.SNAPPY!(snappyCompress(text).subarray(0, 100), text.length)).toThrow();
  });
});
