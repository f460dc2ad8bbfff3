/**
 * Rate budgets for direct (sync) calls: token buckets for requests/minute and
 * tokens/minute, a sender-wide pause (429 Retry-After, exhausted
 * `x-ratelimit-remaining-*`), all waits interruptible by an AbortSignal.
 */

export interface RateLimits {
  /** Requests per minute; undefined = unlimited. */
  rpm?: number | undefined;
  /** Tokens per minute; undefined = unlimited. */
  tpm?: number | undefined;
}

/**
 * A token bucket refilled continuously at `perMinute / 60_000` per ms, holding
 * at most one second's worth (at least 1), so budgets are spent smoothly
 * rather than in a minute-sized burst. A cost above the capacity goes once the
 * bucket is full (the level then goes negative and later sends wait longer).
 */
export class TokenBucket {
  private level: number;
  private updated: number;
  readonly capacity: number;
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
    this.capacity = Math.max(1, perMinute / 60);
    this.level = this.capacity;
    this.updated = now();
  }

  private refill(): void {
    const now = this.now();
    this.level = Math.min(this.capacity, this.level + (now - this.updated) * this.perMs);
    this.updated = now;
  }

  /** ms to wait before `cost` can be taken (0 = now). */
  waitMs(cost: number): number {
    this.refill();
    const needed = Math.min(cost, this.capacity);
    if (this.level >= needed) return 0;
    return Math.ceil((needed - this.level) / this.perMs);
  }

  take(cost: number): void {
    this.refill();
    this.level -= cost;
  }

  /** The server says fewer are left than we think: never hold more than that. */
  clamp(remaining: number): void {
    this.refill();
    this.level = Math.min(this.level, remaining);
  }
}

/** Parses OpenAI's reset durations: "1s", "6m0s", "20ms", "1h2m3.5s", or plain seconds. */
export function parseResetMs(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    const amount = Number(match[1]);
    const unit = match[2];
    total += unit === 'ms' ? amount : unit === 's' ? amount * 1000 : unit === 'm' ? amount * 60_000 : amount * 3_600_000;
    consumed += match[0].length;
  }
  return consumed === text.length ? Math.ceil(total) : undefined;
}

/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date), in ms. */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  if (Number.isFinite(Number(after))) return Math.max(0, Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class RateLimiter {
  private readonly requests: TokenBucket | undefined;
  private readonly tokens: TokenBucket | undefined;
  private pausedUntil = 0;
  /** Sends hold this while they wait for budget, so they leave in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    limits: RateLimits,
    private readonly onPause: (ms: number, why: string) => void = () => {},
  ) {
    this.requests = limits.rpm ? new TokenBucket(limits.rpm) : undefined;
    this.tokens = limits.tpm ? new TokenBucket(limits.tpm) : undefined;
  }

  /** Stops every sender until `ms` from now (never shortens a longer pause). */
  pause(ms: number, why: string): void {
    const until = Date.now() + ms;
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.onPause(ms, why);
  }

  /** Resolves when one request of `tokens` may be sent; false when aborted first. */
  acquire(tokens: number, signal: AbortSignal): Promise<boolean> {
    const turn = this.queue.then(() => this.waitForBudget(tokens, signal));
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async waitForBudget(tokens: number, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const wait = Math.max(this.pausedUntil - Date.now(), this.requests?.waitMs(1) ?? 0, this.tokens?.waitMs(tokens) ?? 0);
      if (wait <= 0) break;
      await sleep(wait, signal);
    }
    this.requests?.take(1);
    this.tokens?.take(tokens);
    return true;
  }

  /**
   * Adapts to the server's view: `x-ratelimit-remaining-requests` /
   * `-tokens` clamp the buckets; once one is exhausted (below what is already
   * in flight) every sender waits for its `x-ratelimit-reset-*`.
   */
  observe(headers: Headers | undefined, inFlight: number, typicalTokens: number): void {
    if (!headers) return;
    const remainingRequests = toNumber(headers.get('x-ratelimit-remaining-requests'));
    const remainingTokens = toNumber(headers.get('x-ratelimit-remaining-tokens'));
    if (remainingRequests !== undefined) {
      this.requests?.clamp(remainingRequests);
      if (remainingRequests < Math.max(1, inFlight)) {
        const reset = parseResetMs(headers.get('x-ratelimit-reset-requests'));
        if (reset !== undefined && reset > 0) this.pause(reset, 'x-ratelimit-remaining-requests');
      }
    }
    if (remainingTokens !== undefined) {
      this.tokens?.clamp(remainingTokens);
      if (remainingTokens < Math.max(1, inFlight) * Math.max(1, typicalTokens)) {
        const reset = parseResetMs(headers.get('x-ratelimit-reset-tokens'));
        if (reset !== undefined && reset > 0) this.pause(reset, 'x-ratelimit-remaining-tokens');
      }
    }
  }
}

function toNumber(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}
