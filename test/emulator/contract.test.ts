import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertValid } from '../helpers/openapi.js';
import { chatLines, createBatch, fileLines, type Harness, startHarness, uploadJsonl, waitForBatch } from './harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.cleanup());

describe('emulator contract with the official SDK', () => {
  it('uploads a stream, runs a batch to completion, and serves schema-valid objects', async () => {
    const path = join(harness.dir, 'contract.jsonl');
    await writeFile(path, chatLines(5));
    const file = await harness.client.files.create({ file: createReadStream(path), purpose: 'batch' });
    assertValid('OpenAIFile', file);
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', status: 'processed', filename: 'contract.jsonl' });
    assertValid('OpenAIFile', await harness.client.files.retrieve(file.id));

    const created = await createBatch(harness, file.id, { shard: '0' });
    assertValid('Batch', created);
    expect(created.status).toBe('validating');
    expect(created.metadata).toEqual({ shard: '0' });

    const batch = await waitForBatch(harness.client, created.id);
    assertValid('Batch', batch);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 5, completed: 5, failed: 0 });
    expect(batch.in_progress_at).toBeTypeOf('number');
    expect(batch.finalizing_at).toBeTypeOf('number');
    expect(batch.completed_at).toBeTypeOf('number');
    expect(batch.error_file_id).toBeUndefined();
    expect(batch.model).toBe('gpt-4o-mini');
    expect(batch.usage?.input_tokens).toBeGreaterThan(0);

    const output = await harness.client.files.retrieve(batch.output_file_id!);
    assertValid('OpenAIFile', output);
    expect(output.purpose).toBe('batch_output');

    // Stream the content rather than buffering it.
    const response = await harness.client.files.content(batch.output_file_id!);
    let text = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.custom_id)).toEqual(['row-0', 'row-1', 'row-2', 'row-3', 'row-4']);
    for (const line of lines) {
      assertValid('BatchRequestOutput', line);
      assertValid('CreateChatCompletionResponse', line.response.body);
      expect(line.response.status_code).toBe(200);
      expect(line.error).toBeNull();
      expect(line.response.body.choices[0].message.content).toContain('⟪ps⟫');
    }
  });

  it('accepts toFile uploads and lists files newest first with a purpose filter', async () => {
    const file = await harness.client.files.create({ file: await toFile(Buffer.from(chatLines(1)), 'small.jsonl'), purpose: 'batch' });
    const list = await harness.client.files.list({ purpose: 'batch' });
    expect(list.data[0]?.id).toBe(file.id);
    for (const item of list.data) {
      assertValid('OpenAIFile', item);
      expect(item.purpose).toBe('batch');
    }
    const deleted = await harness.client.files.delete(file.id);
    assertValid('DeleteFileResponse', deleted);
    await expect(harness.client.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('paginates batches with after/limit/has_more and auto-pagination', async () => {
    const fileId = await uploadJsonl(harness, chatLines(1), 'page.jsonl');
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push((await createBatch(harness, fileId, { page: String(index) })).id);
    const first = await harness.client.batches.list({ limit: 2 });
    assertValid('ListBatchesResponse', {
      object: 'list',
      data: first.data,
      has_more: first.has_more,
      first_id: first.data[0]?.id,
      last_id: first.data[1]?.id,
    });
    expect(first.data.map((batch) => batch.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const second = await harness.client.batches.list({ limit: 2, after: ids[3]! });
    expect(second.data.map((batch) => batch.id)).toEqual([ids[2], ids[1]]);

    const raw = await harness.client.batches.list({ limit: 3 }).asResponse();
    const body = await raw.json();
    assertValid('ListBatchesResponse', body);
    expect(body).toMatchObject({ object: 'list', first_id: ids[4], last_id: ids[2], has_more: true });

    const seen: string[] = [];
    for await (const batch of harness.client.batches.list({ limit: 2 })) {
      assertValid('Batch', batch);
      seen.push(batch.id);
    }
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    await expect(harness.client.batches.list({ limit: 101 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    for (const id of ids) await waitForBatch(harness.client, id);
  });

  it('cancels a running batch and keeps its partial output', async () => {
    const slow = await startHarness({ timing: { perRequestMs: 20 } });
    try {
      const fileId = await uploadJsonl(slow, chatLines(200), 'cancel.jsonl');
      const created = await createBatch(slow, fileId);
      for (;;) {
        const batch = await slow.client.batches.retrieve(created.id);
        if ((batch.request_counts?.completed ?? 0) >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const cancelling = await slow.client.batches.cancel(created.id);
      assertValid('Batch', cancelling);
      expect(cancelling.status).toBe('cancelling');
      expect(cancelling.cancelling_at).toBeTypeOf('number');
      const batch = await waitForBatch(slow.client, created.id);
      expect(batch.status).toBe('cancelled');
      expect(batch.cancelled_at).toBeTypeOf('number');
      const lines = await fileLines(slow.client, batch.output_file_id);
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines.length).toBeLessThan(200);
      expect(lines.length).toBe(batch.request_counts?.completed);
      expect(await fileLines(slow.client, batch.error_file_id)).toEqual([]);
      await expect(slow.client.batches.cancel(created.id)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    } finally {
      await slow.cleanup();
    }
  });

  it('answers chat.completions and embeddings synchronously', async () => {
    const completion = await harness.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello world' }],
    });
    assertValid('CreateChatCompletionResponse', completion);
    expect(completion.choices[0]?.message.content).toBe('Ĥëëłłøø ŵøøŕłð ⟪ps⟫');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);

    const embeddings = await harness.client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 8 });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0]?.embedding).toHaveLength(8);
    const again = await harness.client.embeddings.create({ model: 'text-embedding-3-small', input: 'a', dimensions: 8 });
    expect(again.data[0]?.embedding).toEqual(embeddings.data[0]?.embedding);
    const norm = Math.hypot(...(again.data[0]?.embedding ?? []));
    expect(norm).toBeCloseTo(1, 5);
    expect(embeddings.usage.prompt_tokens).toBeGreaterThan(0);
  });
});
