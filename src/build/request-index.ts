/**
 * Dedupe's index: request key → request id, kept in memory as an
 * open-addressing table instead of a random-access SQLite index, which cost
 * prepare more than everything else. A slot is 4 bytes: the id (24 bits) and
 * a tag (the key's fifth byte); the key's first bytes choose the bucket.
 * A tag match is confirmed against the full key (`keyOf`, a rowid lookup in
 * the run state for written requests; ~2% of lookups at the table's load), so
 * a collision never merges two texts.
 *
 * Memory is bounded: past MAX_SLOTS (or for an id past 24 bits) the keys go to
 * `overflow` (the run state), which is then consulted for every key the table
 * does not hold.
 *
 * Keys are binary strings (one char a byte, `latin1`): crypto.hash returns
 * those twice as fast as a Buffer, and prepare makes one per request.
 */

const INITIAL_SLOTS = 1 << 16;
/** 2^22 slots = 16 MB, room for ~2.9M distinct requests before the overflow is used. */
const MAX_SLOTS = 1 << 22;
const MAX_LOAD = 0.7;
/** Ids are stored in 24 bits. */
const ID_LIMIT = 1 << 24;
const TAG_BITS = 8;
const TAG_MASK = (1 << TAG_BITS) - 1;

export interface KeyOverflow {
  find(key: string): number | undefined;
  insert(key: string, id: number): void;
}

/** The key's first four bytes, little-endian: the bucket's bits. */
function bucketOf(key: string): number {
  return (key.charCodeAt(0) | (key.charCodeAt(1) << 8) | (key.charCodeAt(2) << 16) | (key.charCodeAt(3) << 24)) >>> 0;
}

/** A byte the bucket does not use, so a tag match is a 1-in-256 chance for another key. */
function tagOf(key: string): number {
  return key.charCodeAt(4) & TAG_MASK;
}

export class RequestIndex {
  /** Per slot: id << 8 | tag; 0 marks an empty slot (request ids start at 1). */
  private slots: Uint32Array;
  private mask: number;
  private size = 0;
  private overflowing = false;

  constructor(
    /** The full key of request `id`, to confirm a tag match (and to move entries when the table grows). */
    private readonly keyOf: (id: number) => string | undefined,
    private readonly overflow: KeyOverflow,
    options: { maxSlots?: number; expectedKeys?: number } = {},
  ) {
    this.maxSlots = options.maxSlots ?? MAX_SLOTS;
    // Sized for the expected keys up front: growing reads every key back and needs the old and the new table at once.
    let slots = INITIAL_SLOTS;
    while (slots < this.maxSlots && slots * MAX_LOAD < (options.expectedKeys ?? 0)) slots *= 2;
    this.slots = new Uint32Array(slots);
    this.mask = slots - 1;
  }

  private readonly maxSlots: number;

  find(key: string): number | undefined {
    const tag = tagOf(key);
    for (let slot = bucketOf(key) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) break;
      if ((entry & TAG_MASK) === tag) {
        const id = entry >>> TAG_BITS;
        if (this.keyOf(id) === key) return id;
      }
    }
    return this.overflowing ? this.overflow.find(key) : undefined;
  }

  /** Records a new request; `id` must be ≥ 1 and the key not already present. */
  remember(key: string, id: number): void {
    if (id >= ID_LIMIT || (this.size + 1 > this.slotCount() * MAX_LOAD && this.slotCount() >= this.maxSlots)) {
      this.overflowing = true;
      this.overflow.insert(key, id);
      return;
    }
    if (this.size + 1 > this.slotCount() * MAX_LOAD) this.grow();
    this.place(bucketOf(key), id * (1 << TAG_BITS) + tagOf(key));
    this.size++;
  }

  private slotCount(): number {
    return this.mask + 1;
  }

  private place(bucket: number, entry: number): void {
    let slot = bucket & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = entry;
  }

  /** Rare (the table is sized from the input): the buckets come from the keys, read back by id. */
  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      const id = entry >>> TAG_BITS;
      const key = this.keyOf(id);
      if (key === undefined) throw new Error(`dedupe index: request ${id} has no key to move`);
      this.place(bucketOf(key), entry);
    }
  }
}
