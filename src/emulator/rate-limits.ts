/**
 * Requests-per-minute and tokens-per-minute limits for direct (non-batch)
 * calls, enforced over a sliding window like OpenAI's: a request that would
 * exceed either limit is refused with 429 `rate_limit_exceeded` and a
 * `Retry-After`; every answer carries the `x-ratelimit-*` headers.
 *
 * A request's token cost is what OpenAI counts against the limit: its prompt
 * estimate plus `max_completion_tokens` / `max_tokens`.
 */

export interface RateLimitSettings {
  rpm: number | undefined;
  tpm: number | undefined;
  /** The sliding window (default one minute; tests shorten it). */
  windowMs: number;
}

export type RateDecision =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; headers: Record<string, string>; retryAfterMs: number; message: string };

/** OpenAI's duration format: "20ms", "1s", "1.5s", "6m0s", "1h2m3s". */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

interface Entry {
  at: number;
  tokens: number;
}

export class RateLimits {
  private entries: Entry[] = [];

  constructor(private readonly settings: RateLimitSettings) {}

  get enabled(): boolean {
    return this.settings.rpm !== undefined || this.settings.tpm !== undefined;
  }

  private prune(now: number): void {
    const cutoff = now - this.settings.windowMs;
    let drop = 0;
    while (drop < this.entries.length && (this.entries[drop]?.at ?? 0) <= cutoff) drop++;
    if (drop > 0) this.entries = this.entries.slice(drop);
  }

  /** Counts the request if it fits; otherwise says how long until it would. */
  take(tokens: number, now: number = Date.now()): RateDecision {
    if (!this.enabled) return { ok: true, headers: {} };
    this.prune(now);
    const { rpm, tpm, windowMs } = this.settings;
    const usedTokens = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
    const overRequests = rpm !== undefined && this.entries.length + 1 > rpm;
    const overTokens = tpm !== undefined && usedTokens + tokens > tpm;
    if (tpm !== undefined && tokens > tpm) {
      // Can never fit: OpenAI answers 429 too, with no useful wait.
      return {
        ok: false,
        headers: this.headers(now),
        retryAfterMs: windowMs,
        message: `Request too large: Limit ${tpm}, Requested ${tokens}. The input or output tokens must be reduced in order to run successfully.`,
      };
    }
    if (overRequests || overTokens) {
      const retryAfterMs = overRequests ? this.waitForRequests(now) : this.waitForTokens(now, tokens);
      const message = overRequests
        ? `Rate limit reached for requests per min (RPM): Limit ${rpm}, Used ${this.entries.length}, Requested 1. Please try again in ${formatResetDuration(retryAfterMs)}.`
        : `Rate limit reached for tokens per min (TPM): Limit ${tpm}, Used ${usedTokens}, Requested ${tokens}. Please try again in ${formatResetDuration(retryAfterMs)}.`;
      return { ok: false, headers: this.headers(now), retryAfterMs, message };
    }
    this.entries.push({ at: now, tokens });
    return { ok: true, headers: this.headers(now) };
  }

  /** Until the oldest request leaves the window. */
  private waitForRequests(now: number): number {
    const oldest = this.entries[0];
    return oldest ? oldest.at + this.settings.windowMs - now : 0;
  }

  /** Until enough tokens leave the window for `tokens` to fit. */
  private waitForTokens(now: number, tokens: number): number {
    const tpm = this.settings.tpm ?? Number.POSITIVE_INFINITY;
    let used = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
    for (const entry of this.entries) {
      used -= entry.tokens;
      if (used + tokens <= tpm) return entry.at + this.settings.windowMs - now;
    }
    return this.settings.windowMs;
  }

  /** `x-ratelimit-*` after this request: reset = until the window is back to its initial state. */
  private headers(now: number): Record<string, string> {
    const { rpm, tpm, windowMs } = this.settings;
    const newest = this.entries.at(-1);
    const resetAll = newest ? newest.at + windowMs - now : 0;
    const headers: Record<string, string> = {};
    if (rpm !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(rpm);
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, rpm - this.entries.length));
      headers['x-ratelimit-reset-requests'] = formatResetDuration(resetAll);
    }
    if (tpm !== undefined) {
      const used = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
      headers['x-ratelimit-limit-tokens'] = String(tpm);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, tpm - used));
      headers['x-ratelimit-reset-tokens'] = formatResetDuration(resetAll);
    }
    return headers;
  }
}
