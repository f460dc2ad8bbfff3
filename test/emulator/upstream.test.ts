import { describe, expect, it } from 'vitest';
import { API_KEY, chatLines, createBatch, fileLines, startHarness, uploadJsonl, waitForBatch } from './harness.js';

describe('upstream engine', () => {
  it('forwards each request to another OpenAI-compatible server, with retries and its real usage', async () => {
    // The upstream rate-limits its first two chat calls: the engine's SDK client retries them.
    const upstream = await startHarness({
      faults: { http: [{ route: 'POST /v1/chat/completions', status: 429, retry_after_seconds: 0, times: 2 }] },
    });
    const front = await startHarness({
      engine: 'upstream',
      upstreamUrl: upstream.emulator.url,
      upstreamApiKey: API_KEY,
      upstreamConcurrency: 3,
    });
    try {
      const fileId = await uploadJsonl(front, chatLines(12));
      const batch = await waitForBatch(front.client, (await createBatch(front, fileId)).id);
      expect(batch.status).toBe('completed');
      expect(batch.request_counts).toEqual({ total: 12, completed: 12, failed: 0 });
      const lines = await fileLines(front.client, batch.output_file_id);
      expect(lines.map((line) => line['custom_id'])).toEqual(Array.from({ length: 12 }, (_, index) => `row-${index}`));
      const first = (line: Record<string, unknown>) =>
        (line['response'] as { body: { choices: { message: { content: string } }[]; usage: { total_tokens: number } } }).body;
      expect(first(lines[0]!).choices[0]?.message.content).toContain('⟪ps⟫');

      const direct = await upstream.client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Translate to French.' },
          { role: 'user', content: 'Hello number 0, see {name}.' },
        ],
      });
      expect(first(lines[0]!).choices[0]?.message.content).toBe(direct.choices[0]?.message.content);
      expect(first(lines[0]!).usage.total_tokens).toBe(direct.usage?.total_tokens);

      const upstreamCalls = upstream.emulator.events.filter((event) => event.type === 'http' && event.path === '/v1/chat/completions');
      expect(upstreamCalls.filter((event) => 'status' in event && event.status === 429)).toHaveLength(2);
      expect(upstreamCalls.filter((event) => 'status' in event && event.status === 200)).toHaveLength(13);
    } finally {
      await front.cleanup();
      await upstream.cleanup();
    }
  });

  it('turns upstream client errors into error lines', async () => {
    const upstream = await startHarness({ faults: { requests: [{ custom_id: 'never-matches', kind: 'truncate' }] } });
    const front = await startHarness({ engine: 'upstream', upstreamUrl: upstream.emulator.url, upstreamApiKey: 'wrong-key' });
    try {
      const fileId = await uploadJsonl(front, chatLines(2));
      const batch = await waitForBatch(front.client, (await createBatch(front, fileId)).id);
      expect(batch.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
      const errors = await fileLines(front.client, batch.error_file_id);
      expect(errors[0]).toMatchObject({ response: { status_code: 401, body: { error: { code: 'invalid_api_key' } } } });
    } finally {
      await front.cleanup();
      await upstream.cleanup();
    }
  });
});
