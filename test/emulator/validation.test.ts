import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertValid } from '../helpers/openapi.js';
import { API_KEY, chatLine, chatLines, createBatch, type Harness, startHarness, uploadJsonl, waitForBatch } from './harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ limits: { maxRequestsPerFile: 5, maxBytesPerFile: 4_000 } });
});
afterAll(async () => harness.cleanup());

async function failedErrors(text: string) {
  const batch = await waitForBatch(harness.client, (await createBatch(harness, await uploadJsonl(harness, text))).id);
  assertValid('Batch', batch);
  expect(batch.status).toBe('failed');
  expect(batch.output_file_id).toBeUndefined();
  return batch.errors?.data ?? [];
}

describe('batch input validation names line numbers', () => {
  it('invalid JSON lines', async () => {
    const errors = await failedErrors(`${chatLine('a', 'x')}\n{not json\n${chatLine('b', 'y')}\n[oops\n`);
    expect(errors.map((error) => [error.code, error.line])).toEqual([
      ['invalid_json_line', 2],
      ['invalid_json_line', 4],
    ]);
  });

  it('missing custom_id, method, url or body', async () => {
    const base = { custom_id: 'x', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } };
    const without = (key: string) => JSON.stringify(Object.fromEntries(Object.entries(base).filter(([name]) => name !== key)));
    const errors = await failedErrors([without('custom_id'), without('method'), without('url'), without('body')].join('\n'));
    expect(errors.map((error) => [error.line, error.param])).toEqual([
      [1, 'custom_id'],
      [2, 'method'],
      [3, 'url'],
      [4, 'body'],
    ]);
  });

  it('duplicate custom_id, url mismatch and model mismatch', async () => {
    const lines = [
      chatLine('a', 'x'),
      chatLine('a', 'y'),
      JSON.stringify({ custom_id: 'c', method: 'POST', url: '/v1/embeddings', body: { model: 'gpt-4o-mini', input: 'x' } }),
      chatLine('d', 'z', {}, 'gpt-4o'),
    ];
    const errors = await failedErrors(lines.join('\n'));
    expect(errors.map((error) => [error.code, error.line])).toEqual([
      ['duplicate_custom_id', 2],
      ['url_mismatch', 3],
      ['model_mismatch', 4],
    ]);
  });

  it('too many tasks, too many bytes, empty file', async () => {
    expect((await failedErrors(chatLines(6)))[0]).toMatchObject({ code: 'too_many_tasks', line: 6 });
    expect((await failedErrors(`${chatLine('big', 'x'.repeat(5_000))}\n`))[0]).toMatchObject({ code: 'file_too_large', line: null });
    expect((await failedErrors('\n\n'))[0]).toMatchObject({ code: 'empty_file', line: null });
  });

  it('rejects bad create parameters with 400/404 before a batch exists', async () => {
    const fileId = await uploadJsonl(harness, chatLines(1));
    const create = (params: Record<string, unknown>) =>
      harness.client.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        ...params,
      } as never);
    await expect(create({ endpoint: '/v1/responses' })).rejects.toMatchObject({ status: 400, param: 'endpoint' });
    await expect(create({ completion_window: '48h' })).rejects.toMatchObject({ status: 400, param: 'completion_window' });
    await expect(create({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) })).rejects.toMatchObject({
      status: 400,
    });
    await expect(create({ metadata: { ['k'.repeat(65)]: 'v' } })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(create({ metadata: { k: 'v'.repeat(513) } })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(create({ input_file_id: 'file-doesnotexist' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('authentication and path safety', () => {
  it('401 without the right bearer token, on every route', async () => {
    const wrong = new OpenAI({ apiKey: 'wrong-key', baseURL: harness.emulator.url, maxRetries: 0 });
    await expect(wrong.batches.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(wrong.files.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(wrong.chat.completions.create({ model: 'm', messages: [] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const bare = await fetch(`${harness.emulator.url}/files`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key', param: null } });
  });

  it('ids that are not strict object ids are 404s, never disk reads', async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: harness.emulator.url, maxRetries: 0 });
    for (const id of ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', 'file-abc/../../x', 'file-..']) {
      await expect(client.files.content(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(client.files.retrieve(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(client.batches.retrieve(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    }
    for (const path of ['/files/..%2F..%2F..%2Fetc%2Fpasswd/content', '/files/%2e%2e/content', '/batches/batch_%2E%2E%2Fx']) {
      const response = await fetch(`${harness.emulator.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('root:');
    }
  });
});
