import type { DecodedArray } from 'hyparquet';

/**
 * A decoded range of a flat text column as byte offsets into its pages, each
 * value made a string only when its row is (see parquet.ts).
 *
 * hyparquet hands the values over as one Uint8Array view per value. Kept for
 * the whole range, those views (~100 bytes of heap each, three per row of a
 * typical dataset) outlive a few young-generation collections while the caller
 * works through the range and become old-generation garbage: on `prepare` at
 * 1M rows, tens of MB of heap growth between full collections. Packed here the
 * moment the range is decoded, they die young, and the range is a few typed
 * arrays whatever its row count.
 */
export class TextRange {
  readonly length: number;
  readonly #pages: Buffer[];
  readonly #page: Uint32Array;
  /** Byte offset of each value in its page's buffer; -1 for null. */
  readonly #starts: Float64Array;
  readonly #ends: Float64Array;

  private constructor(length: number) {
    this.length = length;
    this.#pages = [];
    this.#page = new Uint32Array(length);
    this.#starts = new Float64Array(length);
    this.#ends = new Float64Array(length);
  }

  /** Packs values that are all null/undefined or Uint8Array; undefined when any is something else. */
  static pack(values: DecodedArray): TextRange | undefined {
    const range = new TextRange(values.length);
    let buffer: ArrayBufferLike | undefined;
    let page = -1;
    for (let i = 0; i < values.length; i++) {
      const value: unknown = values[i];
      if (value == null) {
        range.#starts[i] = -1;
        continue;
      }
      if (!(value instanceof Uint8Array)) return undefined;
      if (value.buffer !== buffer) {
        buffer = value.buffer;
        page = range.#pages.findIndex((known) => known.buffer === buffer);
        if (page < 0) page = range.#pages.push(Buffer.from(buffer)) - 1;
      }
      range.#page[i] = page;
      range.#starts[i] = value.byteOffset;
      range.#ends[i] = value.byteOffset + value.byteLength;
    }
    return range;
  }

  /** Value `i` decoded as UTF-8 (invalid bytes become U+FFFD; a leading BOM is kept, as JSON.parse keeps it). */
  get(i: number): string | null {
    const start = this.#starts[i]!;
    return start < 0 ? null : this.#pages[this.#page[i]!]!.toString('utf8', start, this.#ends[i]!);
  }
}
