/**
 * Dedupe's index: request key → request id, kept in memory as an
 * open-addressing table of 32-bit fingerprints (the key's first bytes, 8
 * bytes a slot) instead of a random-access SQLite index, which cost prepare
 * more than everything else.
 * A fingerprint match is confirmed against the full key (`keyOf`, a rowid
 * lookup in the run state), so a collision never merges two texts.
 *
 * Memory is bounded: past MAX_SLOTS the keys go to `overflow` (the run
 * state), which is then consulted for every key the table does not hold.
 *
 * Keys are binary strings (one char a byte, `latin1`): crypto.hash returns
 * those twice as fast as a Buffer, and prepare makes one per request.
 */

const INITIAL_SLOTS = 1 << 16;
/** 2^22 slots = 32 MB, room for ~2.9M distinct requests before the overflow is used. */
const MAX_SLOTS = 1 << 22;
const MAX_LOAD = 0.7;

export interface KeyOverflow {
  find(key: string): number | undefined;
  insert(key: string, id: number): void;
}

/** The key's first four bytes, little-endian. */
function fingerprintOf(key: string): number {
  return (key.charCodeAt(0) | (key.charCodeAt(1) << 8) | (key.charCodeAt(2) << 16) | (key.charCodeAt(3) << 24)) >>> 0;
}

export class RequestIndex {
  /** Per slot: [fingerprint, id]; id 0 marks an empty slot (request ids start at 1). */
  private slots: Uint32Array;
  private mask: number;
  private size = 0;
  private overflowing = false;

  constructor(
    /** The full key of request `id`, to confirm a fingerprint match. */
    private readonly keyOf: (id: number) => string | undefined,
    private readonly overflow: KeyOverflow,
    options: { maxSlots?: number; expectedKeys?: number } = {},
  ) {
    this.maxSlots = options.maxSlots ?? MAX_SLOTS;
    // Sized for the expected keys up front: growing needs the old and the new table at once, the peak memory of a big prepare.
    let slots = INITIAL_SLOTS;
    while (slots < this.maxSlots && slots * MAX_LOAD < (options.expectedKeys ?? 0)) slots *= 2;
    this.slots = new Uint32Array(slots * 2);
    this.mask = slots - 1;
  }

  private readonly maxSlots: number;

  find(key: string): number | undefined {
    const fingerprint = fingerprintOf(key);
    for (let slot = fingerprint & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.slots[slot * 2 + 1]!;
      if (id === 0) break;
      if (this.slots[slot * 2] === fingerprint && this.keyOf(id) === key) return id;
    }
    return this.overflowing ? this.overflow.find(key) : undefined;
  }

  /** Records a new request; `id` must be ≥ 1 and the key not already present. */
  remember(key: string, id: number): void {
    if (this.size + 1 > this.slotCount() * MAX_LOAD) {
      if (this.slotCount() >= this.maxSlots) {
        this.overflowing = true;
        this.overflow.insert(key, id);
        return;
      }
      this.grow();
    }
    this.place(fingerprintOf(key), id);
    this.size++;
  }

  private slotCount(): number {
    return this.mask + 1;
  }

  /** The fingerprint is also the bucket: the table can grow without the keys. */
  private place(fingerprint: number, id: number): void {
    let slot = fingerprint & this.mask;
    while (this.slots[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot * 2] = fingerprint;
    this.slots[slot * 2 + 1] = id;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let slot = 0; slot < old.length / 2; slot++) {
      const id = old[slot * 2 + 1]!;
      if (id !== 0) this.place(old[slot * 2]!, id);
    }
  }
}
