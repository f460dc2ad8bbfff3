import { describe, expect, it } from 'vitest';
import { parseResetMs, RateLimiter, retryAfterMs, TokenBucket } from '../../src/sync/rate-limiter.js';

describe('rate budgets', () => {
  it('parses OpenAI reset durations', () => {
    expect(parseResetMs('1s')).toBe(1000);
    expect(parseResetMs('6m0s')).toBe(360_000);
    expect(parseResetMs('20ms')).toBe(20);
    expect(parseResetMs('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetMs('2')).toBe(2000);
    expect(parseResetMs('0.5')).toBe(500);
    expect(parseResetMs('soon')).toBeUndefined();
    expect(parseResetMs('')).toBeUndefined();
    expect(parseResetMs(null)).toBeUndefined();
  });

  it('reads Retry-After in seconds, ms or as a date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '2' }))).toBe(150);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('token bucket: one second of budget, then the per-minute rate', () => {
    let now = 0;
    const bucket = new TokenBucket(600, () => now); // 10/s, capacity 10
    for (let i = 0; i < 10; i++) {
      expect(bucket.waitMs(1)).toBe(0);
      bucket.take(1);
    }
    expect(bucket.waitMs(1)).toBe(100);
    now += 100;
    expect(bucket.waitMs(1)).toBe(0);
    // A cost above the capacity goes once the bucket is full, then the debt is paid back.
    const tokens = new TokenBucket(60_000, () => now); // 1000/s, capacity 1000
    expect(tokens.waitMs(5000)).toBe(0);
    tokens.take(5000);
    expect(tokens.waitMs(1000)).toBe(5000);
    // The server's remaining count lowers the level, never raises it.
    const clamped = new TokenBucket(60_000, () => now);
    clamped.clamp(-10);
    expect(clamped.waitMs(1)).toBe(11);
    clamped.clamp(500);
    expect(clamped.waitMs(1)).toBe(11);
  });

  it('a 429 pause holds every sender; abort releases them unsent', async () => {
    const limiter = new RateLimiter({});
    limiter.pause(300, 'test');
    const controller = new AbortController();
    const started = Date.now();
    const first = limiter.acquire(1, controller.signal);
    expect(await first).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    limiter.pause(10_000, 'test');
    const waiting = limiter.acquire(1, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('pauses for the reset when the server says nothing is left', async () => {
    const limiter = new RateLimiter({});
    limiter.observe(new Headers({ 'x-ratelimit-remaining-tokens': '10', 'x-ratelimit-reset-tokens': '250ms' }), 0, 100);
    const started = Date.now();
    expect(await limiter.acquire(1, new AbortController().signal)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(230);
    // Plenty left: no pause.
    limiter.observe(new Headers({ 'x-ratelimit-remaining-requests': '500', 'x-ratelimit-reset-requests': '10s' }), 3, 100);
    const again = Date.now();
    expect(await limiter.acquire(1, new AbortController().signal)).toBe(true);
    expect(Date.now() - again).toBeLessThan(100);
  });
});
