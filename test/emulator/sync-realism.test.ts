/**
 * What direct calls meet on the real API, emulated: the custom_id header for
 * per-request faults, parallel latency, and rpm/tpm limits over a sliding
 * window with OpenAI's 429 and `x-ratelimit-*` headers.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { formatResetDuration, RateLimits } from '../../src/emulator/rate-limits.js';
import { API_KEY, startHarness } from './harness.js';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello world' }] };

function post(url: string, body: object, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('direct calls', () => {
  it('matches per-request faults by metadata.custom_id, else the x-transbatch-custom-id header, and records it', async () => {
    const h = await startHarness({ faults: { requests: [{ custom_id: '^bad$', kind: 'error', status: 400, times: 1 }] } });
    try {
      const viaHeader = await post(h.emulator.url, CHAT, { 'x-transbatch-custom-id': 'bad' });
      expect(viaHeader.status).toBe(400);
      const again = await post(h.emulator.url, CHAT, { 'x-transbatch-custom-id': 'bad' });
      expect(again.status).toBe(200);
      // metadata wins over the header.
      const viaMetadata = await post(h.emulator.url, { ...CHAT, metadata: { custom_id: 'other' } }, { 'x-transbatch-custom-id': 'bad' });
      expect(viaMetadata.status).toBe(200);
      const events = h.emulator.events.filter((e) => e.type === 'http' && e.path === '/v1/chat/completions');
      expect(events.map((e) => (e.type === 'http' ? [e.status, e.customId] : []))).toEqual([
        [400, 'bad'],
        [200, 'bad'],
        [200, 'other'],
      ]);
      for (const e of events) if (e.type === 'http') expect(e.end).toBeGreaterThanOrEqual(e.start);
    } finally {
      await h.cleanup();
    }
  });

  it('adds timing.syncMs + sync_latency_ms to each call, in parallel', async () => {
    const h = await startHarness({ timing: { syncMs: 150 }, faults: { sync_latency_ms: 100 } });
    try {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(h.emulator.url, CHAT)));
      const elapsed = Date.now() - started;
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(240);
      expect(elapsed).toBeLessThan(2_000);
      const events = h.emulator.events.filter((e) => e.type === 'http' && e.path === '/v1/chat/completions');
      for (const e of events) if (e.type === 'http') expect(e.end - e.start).toBeGreaterThanOrEqual(240);
    } finally {
      await h.cleanup();
    }
  });

  it('enforces rpm over a sliding window: x-ratelimit-* on every answer, 429 rate_limit_exceeded with Retry-After', async () => {
    const h = await startHarness({ limits: { rpm: 2, rateWindowMs: 1000 } });
    try {
      const first = await post(h.emulator.url, CHAT);
      expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(first.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|1s)$/);
      expect(first.headers.get('x-ratelimit-limit-tokens')).toBeNull();
      const second = await post(h.emulator.url, CHAT);
      expect(second.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const third = await post(h.emulator.url, CHAT);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('1');
      expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const body = (await third.json()) as { error: { code: string; type: string; message: string } };
      expect(body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
      expect(body.error.message).toMatch(/requests per min \(RPM\): Limit 2/);
      // The SDK honours Retry-After and gets through once the window slides.
      const client = new OpenAI({ apiKey: API_KEY, baseURL: h.emulator.url, maxRetries: 2 });
      const completion = await client.chat.completions.create(CHAT);
      expect(completion.choices[0]?.message.content).toContain('⟪ps⟫');
    } finally {
      await h.cleanup();
    }
  });

  it('enforces tpm (prompt estimate + max_tokens) from the fault plan', async () => {
    const h = await startHarness({ faults: { rate_limits: { tpm: 1000, window_ms: 60_000 } } });
    try {
      const small = await post(h.emulator.url, { ...CHAT, max_tokens: 400 });
      expect(small.status).toBe(200);
      const limit = Number(small.headers.get('x-ratelimit-limit-tokens'));
      const remaining = Number(small.headers.get('x-ratelimit-remaining-tokens'));
      expect(limit).toBe(1000);
      expect(remaining).toBeLessThan(600);
      expect(remaining).toBeGreaterThan(500);
      expect(small.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(59\.\d+s|1m0s)$/);
      const big = await post(h.emulator.url, { ...CHAT, max_tokens: 600 });
      expect(big.status).toBe(429);
      expect(Number(big.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(/tokens per min \(TPM\)/);
      // Rate limits apply to chat calls only.
      const embeddings = await fetch(`${h.emulator.url}/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'text-embedding-3-small', input: 'a' }),
      });
      expect(embeddings.status).toBe(200);
    } finally {
      await h.cleanup();
    }
  });
});

describe('rate-limit bookkeeping', () => {
  it("formats resets like OpenAI's headers", () => {
    expect(formatResetDuration(20)).toBe('20ms');
    expect(formatResetDuration(1000)).toBe('1s');
    expect(formatResetDuration(1500)).toBe('1.5s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(3_723_000)).toBe('1h2m3s');
  });

  it('frees the window as requests age out, and refuses a request larger than tpm', () => {
    const limits = new RateLimits({ rpm: 2, tpm: 100, windowMs: 1000 });
    expect(limits.take(10, 0).ok).toBe(true);
    expect(limits.take(10, 400).ok).toBe(true);
    const refused = limits.take(10, 500);
    expect(refused).toMatchObject({ ok: false, retryAfterMs: 500 });
    expect(limits.take(10, 1000).ok).toBe(true);
    expect(limits.take(95, 1500).ok).toBe(false);
    expect(limits.take(101, 5000)).toMatchObject({ ok: false });
  });
});
