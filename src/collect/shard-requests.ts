/** collect's reader of a shard's requests (see ShardRequests). */
import { type RunState, requestText, type SentRequestRow, type StoredRequestRow } from '../state/run-state.js';

/** Requests of the shard held read ahead of the lines that answer them (bounds memory whatever the output's order). */
export const WINDOW_ROWS = 2048;
const PAGE_ROWS = 256;
/** Pages read for a line before it is looked up on its own (an unknown id must not read the whole shard). */
const PAGES_PER_MISS = 2;

/**
 * The shard's requests, read in id order a page at a time, for output lines
 * that mostly come in the order of the input: a line finds its request among
 * those read ahead instead of in a query of its own. Any other line (out of
 * order, a duplicate, another shard's, a request whose row left the window)
 * is looked up on its own, so the order only changes the speed.
 */
export class ShardRequests {
  private readonly ahead = new Map<string, StoredRequestRow>();
  private lastId = 0;
  private exhausted = false;

  constructor(
    private readonly state: RunState,
    private readonly shard: number,
  ) {}

  /** Rows read ahead and not taken yet (at most WINDOW_ROWS). */
  get held(): number {
    return this.ahead.size;
  }

  /** The request `customId` answers; `beforeLookup` runs before one is looked up on its own. */
  take(customId: string, beforeLookup: () => void): SentRequestRow | undefined {
    let row = this.ahead.get(customId);
    for (let pages = 0; row === undefined && !this.exhausted && pages < PAGES_PER_MISS; pages++) {
      const page = this.state.shardRequestsAfter(this.shard, this.lastId, PAGE_ROWS);
      if (page.length < PAGE_ROWS) this.exhausted = true;
      for (const request of page) this.ahead.set(request.custom_id, request);
      this.lastId = page.at(-1)?.id ?? this.lastId;
      // The oldest rows go first: left behind by in-order lines, they are answered in the error file, or not at all.
      for (const key of this.ahead.keys()) {
        if (this.ahead.size <= WINDOW_ROWS) break;
        this.ahead.delete(key);
      }
      row = this.ahead.get(customId);
    }
    if (row !== undefined) {
      // Taken once: a second answer for it is looked up, and found answered.
      this.ahead.delete(customId);
      return { ...row, text: requestText(row.text) };
    }
    beforeLookup();
    return this.state.requestByCustomId(customId);
  }
}
