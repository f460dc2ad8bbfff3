import { describe, expect, it } from 'vitest';
import { TextRange } from '../../src/read/parquet-text.js';

describe('TextRange', () => {
  it('keeps values as offsets into their pages and decodes each on demand, nulls included', () => {
    const encoder = new TextEncoder();
    const pageA = encoder.encode('hello안녕 😀');
    const pageB = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xff, 0x62]); // BOM, "a", an invalid byte, "b"
    const values = [pageA.subarray(0, 5), null, pageA.subarray(5), undefined, pageB, pageB.subarray(3, 3), pageA.subarray(0, 1)];
    const range = TextRange.pack(values)!;
    expect(range.length).toBe(values.length);
    expect(Array.from({ length: range.length }, (_, i) => range.get(i))).toEqual([
      'hello',
      null,
      '안녕 😀',
      null,
      '\ufeffa\ufffdb', // as JSON.parse would give the same text: the BOM stays
      '',
      'h',
    ]);
  });

  it('leaves values that are not bytes to the caller', () => {
    expect(TextRange.pack(['already a string'])).toBeUndefined();
  });
});
