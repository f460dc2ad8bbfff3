/**
 * The deterministic sample of unflagged rows: each row index gets a seeded
 * hash and the `size` rows with the smallest hashes are kept (bottom-k), so
 * the sample is spread over the whole dataset, the same on every run, and
 * memory stays bounded by the sample size whatever the input's length.
 */

/** 32-bit hash of a row index (murmur3's finalizer over index ^ seed). */
export function rowHash(index: number, seed = 0x9e3779b9): number {
  let h = (Math.imul(index ^ seed, 0x85ebca6b) ^ Math.floor(index / 0x1_0000_0000)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export class BottomKSample<T> {
  private items: { key: number; index: number; value: T }[] = [];
  /** Hashes at or above this cannot enter the sample any more. */
  private threshold = Number.POSITIVE_INFINITY;

  constructor(
    readonly size: number,
    private readonly seed?: number,
  ) {
    if (!Number.isInteger(size) || size < 0) throw new TypeError(`Expected a sample size >= 0, got ${size}`);
  }

  /** Whether a row with this index would enter the sample now (lets callers skip building it). */
  wants(index: number): boolean {
    return this.size > 0 && this.keyOf(index) < this.threshold;
  }

  offer(index: number, build: () => T): void {
    if (!this.wants(index)) return;
    this.items.push({ key: this.keyOf(index), index, value: build() });
    // Amortized: prune to `size` only when twice as many are held.
    if (this.items.length >= this.size * 2) this.prune();
  }

  /** The sampled values in row order. */
  values(): T[] {
    this.prune();
    return [...this.items].sort((a, b) => a.index - b.index).map((item) => item.value);
  }

  private keyOf(index: number): number {
    // Ties are broken by the index so the order is total.
    return rowHash(index, this.seed) * 2 ** 21 + (index % 2 ** 21);
  }

  private prune(): void {
    if (this.items.length <= this.size) return;
    this.items.sort((a, b) => a.key - b.key);
    this.items.length = this.size;
    this.threshold = this.items.at(-1)?.key ?? Number.POSITIVE_INFINITY;
  }
}
