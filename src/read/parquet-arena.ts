import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Compressors } from 'hyparquet';
import { snappyUncompress } from 'hyparquet';

/** Smallest slab worth allocating. */
const MIN_SLAB = 64 * 1024;
/** Largest slab kept for reuse: a bigger page (a file with huge pages) gets a buffer of its own, freed by GC as before. */
export const MAX_SLAB = 8 << 20;

/**
 * Memory for one column's decompressed pages, reused range after range.
 *
 * A range's values (text kept as bytes, numbers as typed arrays) are views into
 * its pages and stay alive while the caller works through the range: long
 * enough to be promoted, so a fresh buffer per page is freed only by a full GC,
 * and `prepare` with Parquet input carried tens of MB of dead pages (and the
 * allocator's fragments of them) over the same run from JSONL. Here pages go to
 * one of two slabs: the range being read fills one while the caller is on the
 * range in the other, and the range before that, whose rows are all made, is
 * overwritten. A slab grows (by a quarter over what a range needed) until a
 * range fits, so memory is about two ranges per column, whatever the file size.
 *
 * Sound because records never keep a view: text is decoded to strings and
 * other bytes copied (base64, arrays) when the row is made.
 */
export class PageArena {
  readonly #slabs: [ArrayBuffer | undefined, ArrayBuffer | undefined] = [undefined, undefined];
  #slab = 0;
  #used = 0;
  /** Bytes this range has taken, across slab changes: the size a slab must reach for a range like it to fit. */
  #rangeBytes = 0;

  /** Starts the next range in the other slab: the caller has made every row of the range that was there. */
  nextRange(): void {
    this.#slab ^= 1;
    this.#used = 0;
    this.#rangeBytes = 0;
  }

  /** Bytes held in slabs (tests: the window stays bounded). */
  get capacity(): number {
    return (this.#slabs[0]?.byteLength ?? 0) + (this.#slabs[1]?.byteLength ?? 0);
  }

  /** `length` bytes of the current range, 8-byte aligned so typed arrays can view them in place; contents undefined. */
  alloc(length: number): Uint8Array {
    const aligned = (length + 7) & ~7;
    this.#rangeBytes += aligned;
    let slab = this.#slabs[this.#slab];
    if (!slab || this.#used + aligned > slab.byteLength) {
      if (aligned > MAX_SLAB) return new Uint8Array(length);
      // Earlier pages of this range stay in the old slab (their views hold it) until the range is done.
      const size = Math.min(MAX_SLAB, Math.max(MIN_SLAB, aligned, Math.ceil((this.#rangeBytes * 1.25) / 8) * 8));
      slab = new ArrayBuffer(size);
      this.#slabs[this.#slab] = slab;
      this.#used = 0;
    }
    const bytes = new Uint8Array(slab, this.#used, length);
    this.#used += aligned;
    return bytes;
  }

  /** Decompressors writing into this arena: SNAPPY in place, GZIP and BROTLI (node:zlib) copied in. */
  compressors(): Compressors {
    const copy = (bytes: Uint8Array): Uint8Array => {
      const out = this.alloc(bytes.length);
      out.set(bytes);
      return out;
    };
    return {
      SNAPPY: (input, outputLength) => {
        const out = this.alloc(outputLength);
        snappyUncompress(input, out);
        return out;
      },
      GZIP: (input) => copy(gunzipSync(input)),
      BROTLI: (input) => copy(brotliDecompressSync(input)),
    };
  }
}
