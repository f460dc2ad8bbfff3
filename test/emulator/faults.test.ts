import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI, { type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { loadFaultPlan, parseFaultPlan } from '../../src/emulator/faults.js';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { assertValid } from '../helpers/openapi.js';
import { API_KEY, chatLines, createBatch, fileLines, type Harness, startHarness, tempDir, uploadJsonl, waitForBatch } from './harness.js';

async function withHarness(options: Partial<EmulatorOptions>, body: (harness: Harness) => Promise<void>): Promise<void> {
  const harness = await startHarness(options);
  try {
    await body(harness);
  } finally {
    await harness.cleanup();
  }
}

const batchCreates = (harness: Harness) => harness.emulator.events.filter((event) => event.type === 'batch.created');

describe('fault plan: HTTP faults', () => {
  it('429 with Retry-After on the first N uploads, then success', async () => {
    await withHarness(
      { faults: { http: [{ route: 'POST /v1/files', status: 429, retry_after_seconds: 7, times: 2 }] } },
      async (harness) => {
        for (let attempt = 0; attempt < 2; attempt += 1) {
          const error = await uploadJsonl(harness, chatLines(1)).catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(OpenAI.RateLimitError);
          expect((error as APIError).headers?.get('retry-after')).toBe('7');
          expect((error as APIError).code).toBe('rate_limit_exceeded');
        }
        expect(await uploadJsonl(harness, chatLines(1))).toMatch(/^file-/);
      },
    );
  });

  it('500 on GET /v1/batches/{id}, GET /v1/files/{id}/content and POST /v1/chat/completions', async () => {
    const http = [
      { route: 'GET /v1/batches/{id}', status: 500 as const },
      { route: 'GET /v1/files/{id}/content', status: 503 as const },
      { route: 'POST /v1/chat/completions', status: 429 as const, retry_after_seconds: 0 },
    ];
    await withHarness({ faults: { http } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(1));
      const batch = await createBatch(harness, fileId);
      await expect(harness.client.batches.retrieve(batch.id)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
      await expect(harness.client.files.content(fileId)).rejects.toMatchObject({ status: 503 });
      const chat = { model: 'm', messages: [{ role: 'user' as const, content: 'x' }] };
      await expect(harness.client.chat.completions.create(chat)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      // Each fault fired once; the same calls now succeed.
      expect((await waitForBatch(harness.client, batch.id)).status).toBe('completed');
      expect((await harness.client.files.content(fileId)).ok).toBe(true);
      expect((await harness.client.chat.completions.create(chat)).choices).toHaveLength(1);
      const faults = harness.emulator.events.filter((event) => event.type === 'fault');
      expect(faults).toHaveLength(3);
    });
  });

  it('create_then_error: the batch is created, the SDK retries and creates a duplicate', async () => {
    await withHarness({ faults: { http: [{ route: 'POST /v1/batches', action: 'create_then_error' }] } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(2));
      const retrying = new OpenAI({ apiKey: API_KEY, baseURL: harness.emulator.url, maxRetries: 1 });
      const batch = await retrying.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const creates = batchCreates(harness);
      expect(creates).toHaveLength(2);
      expect(creates[1]).toMatchObject({ batchId: batch.id, inputFileId: fileId });
      expect(
        harness.emulator.events
          .filter((event) => event.type === 'http' && event.path === '/v1/batches')
          .map((event) => 'status' in event && event.status),
      ).toEqual([500, 200]);
      const listed = await harness.client.batches.list();
      expect(listed.data).toHaveLength(2);
    });
  });

  it('create_then_hang: the client times out and its retry creates a duplicate', async () => {
    await withHarness(
      { faults: { http: [{ route: 'POST /v1/batches', action: 'create_then_hang', hang_ms: 5_000 }] } },
      async (harness) => {
        const fileId = await uploadJsonl(harness, chatLines(1));
        const impatient = new OpenAI({ apiKey: API_KEY, baseURL: harness.emulator.url, maxRetries: 1, timeout: 300 });
        const started = Date.now();
        const batch = await impatient.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' });
        expect(Date.now() - started).toBeLessThan(4_000);
        expect(batchCreates(harness).map((event) => 'batchId' in event && event.batchId)).toContain(batch.id);
        expect(batchCreates(harness)).toHaveLength(2);
      },
    );
  });
});

describe('fault plan: batch outcomes', () => {
  it('fails the Nth batch with token_limit_exceeded', async () => {
    await withHarness({ faults: { batches: [{ match: { nth: 2 }, outcome: 'token_limit_exceeded' }] } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(2));
      const first = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      const second = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      expect(first.status).toBe('completed');
      assertValid('Batch', second);
      expect(second.status).toBe('failed');
      expect(second.failed_at).toBeTypeOf('number');
      expect(second.errors?.data?.[0]).toMatchObject({ code: 'token_limit_exceeded', line: null });
      expect(second.output_file_id).toBeUndefined();
    });
  });

  it('expires a metadata-matched batch after K requests: partial output plus batch_expired lines', async () => {
    const faults = { batches: [{ match: { metadata: { shard: '3' } }, outcome: 'expire' as const, after: 4 }] };
    await withHarness({ faults }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(10));
      const other = await createBatch(harness, fileId, { shard: '2' });
      const batch = await waitForBatch(harness.client, (await createBatch(harness, fileId, { shard: '3' })).id);
      assertValid('Batch', batch);
      expect(batch.status).toBe('expired');
      expect(batch.expired_at).toBeTypeOf('number');
      expect(batch.request_counts).toEqual({ total: 10, completed: 4, failed: 6 });
      const output = await fileLines(harness.client, batch.output_file_id);
      expect(output.map((line) => line['custom_id'])).toEqual(['row-0', 'row-1', 'row-2', 'row-3']);
      const errors = await fileLines(harness.client, batch.error_file_id);
      expect(errors).toHaveLength(6);
      for (const line of errors) {
        assertValid('BatchRequestOutput', line);
        expect(line).toMatchObject({ response: null, error: { code: 'batch_expired' } });
      }
      expect((await waitForBatch(harness.client, other.id)).status).toBe('completed');
    });
  });

  it('cancels a batch after K requests', async () => {
    await withHarness({ faults: { batches: [{ match: { nth: 1 }, outcome: 'cancel', after: 3 }] } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(10));
      const batch = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      expect(batch.status).toBe('cancelled');
      expect(batch.cancelling_at).toBeTypeOf('number');
      expect((await fileLines(harness.client, batch.output_file_id)).map((line) => line['custom_id'])).toEqual(['row-0', 'row-1', 'row-2']);
      expect(batch.error_file_id).toBeUndefined();
      const statuses = harness.emulator.events.flatMap((event) => (event.type === 'batch.status' ? [event.status] : []));
      expect(statuses).toEqual(['validating', 'in_progress', 'cancelling', 'cancelled']);
    });
  });

  it('fails a batch whose estimated tokens exceed the enqueued-token limit while others are in flight', async () => {
    await withHarness({ limits: { enqueuedTokens: 2_000 }, timing: { perRequestMs: 10 } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(60));
      const first = await createBatch(harness, fileId);
      for (;;) {
        if ((await harness.client.batches.retrieve(first.id)).status === 'in_progress') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const second = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      expect(second.status).toBe('failed');
      expect(second.errors?.data?.[0]?.code).toBe('token_limit_exceeded');
      expect(second.errors?.data?.[0]?.message).toMatch(/Limit: 2000 enqueued tokens/);
      expect((await waitForBatch(harness.client, first.id)).status).toBe('completed');
      // The queue drained: the same file now fits.
      expect((await waitForBatch(harness.client, (await createBatch(harness, fileId)).id)).status).toBe('completed');
    });
  });
});

describe('fault plan: per-request faults', () => {
  it('error lines with status 500 for matching custom_ids on their first attempt only', async () => {
    await withHarness({ faults: { requests: [{ custom_id: '^row-[12]$', kind: 'error', status: 500, times: 1 }] } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(4));
      const first = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      expect(first.status).toBe('completed');
      expect(first.request_counts).toEqual({ total: 4, completed: 2, failed: 2 });
      const errors = await fileLines(harness.client, first.error_file_id);
      expect(errors.map((line) => line['custom_id'])).toEqual(['row-1', 'row-2']);
      for (const line of errors) {
        assertValid('BatchRequestOutput', line);
        expect(line).toMatchObject({ response: { status_code: 500, body: { error: { type: 'server_error' } } }, error: null });
      }
      const second = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      expect(second.request_counts).toEqual({ total: 4, completed: 4, failed: 0 });
    });
  });

  it('status 400 always; when every request fails there is no output file', async () => {
    await withHarness({ faults: { requests: [{ custom_id: '.', kind: 'error', status: 400 }] } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(3));
      for (let round = 0; round < 2; round += 1) {
        const batch = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
        expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 0, failed: 3 } });
        expect(batch.output_file_id).toBeUndefined();
        const errors = await fileLines(harness.client, batch.error_file_id);
        expect(errors.every((line) => (line['response'] as { status_code: number }).status_code === 400)).toBe(true);
      }
    });
  });

  it('truncated answers (finish_reason length) for matching custom_ids, first attempt; sync calls match metadata.custom_id', async () => {
    await withHarness({ faults: { requests: [{ custom_id: '-1$', kind: 'truncate', times: 1 }] } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(3));
      const batch = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      const output = await fileLines(harness.client, batch.output_file_id);
      const reasons = output.map(
        (line) => (line['response'] as { body: { choices: { finish_reason: string; message: { content: string } }[] } }).body.choices[0],
      );
      expect(reasons.map((choice) => choice?.finish_reason)).toEqual(['stop', 'length', 'stop']);
      expect(reasons[1]?.message.content).not.toContain('⟪ps⟫');
      const chat = {
        model: 'm',
        messages: [{ role: 'user' as const, content: 'Some text to translate' }],
        metadata: { custom_id: 'sync-1' },
      };
      expect((await harness.client.chat.completions.create(chat)).choices[0]?.finish_reason).toBe('length');
      expect((await harness.client.chat.completions.create(chat)).choices[0]?.finish_reason).toBe('stop');
    });
  });

  it('shuffles output order deterministically without losing lines', async () => {
    const runs: string[][] = [];
    for (let round = 0; round < 2; round += 1) {
      await withHarness({ faults: { shuffle: { window: 16, seed: 7 } } }, async (harness) => {
        const fileId = await uploadJsonl(harness, chatLines(40));
        const batch = await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
        runs.push((await fileLines(harness.client, batch.output_file_id)).map((line) => String(line['custom_id'])));
      });
    }
    const expected = Array.from({ length: 40 }, (_, index) => `row-${index}`);
    expect(runs[0]).not.toEqual(expected);
    expect([...(runs[0] ?? [])].sort()).toEqual([...expected].sort());
    expect(runs[1]).toEqual(runs[0]);
  });

  it('delays each request', async () => {
    await withHarness({ faults: { delay_ms_per_request: 25 } }, async (harness) => {
      const fileId = await uploadJsonl(harness, chatLines(8));
      const started = Date.now();
      await waitForBatch(harness.client, (await createBatch(harness, fileId)).id);
      expect(Date.now() - started).toBeGreaterThanOrEqual(8 * 25);
    });
  });
});

describe('fault plan loading', () => {
  it('loads YAML and reports invalid plans with the key path', async () => {
    const dir = await tempDir();
    const path = join(dir, 'faults.yaml');
    await writeFile(path, 'http:\n  - route: POST /v1/files\n    status: 429\nshuffle: true\n');
    const plan = await loadFaultPlan(path);
    expect(plan.http[0]).toMatchObject({ action: 'error', status: 429, times: 1, retry_after_seconds: 1 });
    expect(plan.shuffle).toBe(true);
    expect(() => parseFaultPlan({ http: [{ route: 'POST /v1/files', status: 418 }] })).toThrow(/http\.0\.status/);
    expect(() => parseFaultPlan({ requests: [{ custom_id: '(', kind: 'truncate' }] })).toThrow(/regular expression/);
    expect(() => parseFaultPlan({ surprise: 1 })).toThrow(/surprise|Unrecognized/);
  });
});
