/** The Uploads API of the emulator: objects in the reference shapes, parts concatenated in order, errors as the API gives them. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import OpenAI, { toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateSchema } from '../helpers/openapi.js';
import { type Harness, startHarness } from './harness.js';

let harness: Harness;
beforeEach(async () => {
  harness = await startHarness({ engine: 'echo' });
});
afterEach(async () => {
  await harness.cleanup();
});

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

describe('Uploads API', () => {
  it('creates, adds parts, completes in the given order into a stored file', async () => {
    const { client } = harness;
    const pieces = ['{"a":1}\n', '{"b":2}\n', '{"c":3}\n'];
    const whole = pieces.join('');
    const upload = await client.uploads.create({
      bytes: Buffer.byteLength(whole),
      filename: 'in.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    expect(validateSchema('Upload', upload)).toEqual([]);
    expect(upload).toMatchObject({ object: 'upload', status: 'pending', filename: 'in.jsonl', purpose: 'batch' });
    expect(upload.expires_at - upload.created_at).toBe(3600);
    // Parts are sent out of order; `part_ids` decides the order.
    const ids: string[] = [];
    for (const index of [2, 0, 1]) {
      const part = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from(pieces[index] ?? ''), 'p') });
      expect(validateSchema('UploadPart', part)).toEqual([]);
      expect(part.upload_id).toBe(upload.id);
      ids[index] = part.id;
    }
    const done = await client.uploads.complete(upload.id, { part_ids: ids, md5: md5(whole) });
    expect(validateSchema('Upload', done)).toEqual([]);
    expect(done.status).toBe('completed');
    expect(done.file).toMatchObject({ object: 'file', bytes: Buffer.byteLength(whole), filename: 'in.jsonl', purpose: 'batch' });
    expect(validateSchema('OpenAIFile', done.file)).toEqual([]);
    const content = await (await client.files.content(done.file?.id ?? '')).text();
    expect(content).toBe(whole);
    const created = harness.emulator.events.filter((event) => event.type === 'file.created');
    expect(created).toEqual([
      { type: 'file.created', fileId: done.file?.id, bytes: whole.length, sha256: sha256(whole), purpose: 'batch' },
    ]);
    const onDisk = await readFile(`${harness.dir}/data/files/${done.file?.id}.data`, 'utf8');
    expect(onDisk).toBe(whole);
    // A completed upload takes no more parts and cannot complete again.
    await expect(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'p') })).rejects.toMatchObject({
      status: 400,
    });
    await expect(client.uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 400 });
  });

  it('rejects a byte count or md5 that does not match, then still completes', async () => {
    const { client } = harness;
    const upload = await client.uploads.create({ bytes: 10, filename: 'x.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const first = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('12345'), 'p') });
    await expect(client.uploads.complete(upload.id, { part_ids: [first.id] })).rejects.toMatchObject({ status: 400 });
    const second = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('67890'), 'p') });
    await expect(client.uploads.complete(upload.id, { part_ids: [first.id, second.id], md5: md5('wrong') })).rejects.toMatchObject({
      status: 400,
      code: 'md5_mismatch',
    });
    await expect(client.uploads.complete(upload.id, { part_ids: [first.id, 'part_nope'] })).rejects.toMatchObject({ status: 400 });
    expect(harness.emulator.events.some((event) => event.type === 'file.created')).toBe(false);
    const done = await client.uploads.complete(upload.id, { part_ids: [first.id, second.id] });
    expect(done.status).toBe('completed');
    expect(await (await client.files.content(done.file?.id ?? '')).text()).toBe('1234567890');
  });

  it('validates create and cancels', async () => {
    const { client } = harness;
    await expect(
      client.uploads.create({ bytes: 10, filename: 'x', mime_type: 'application/jsonl', purpose: 'nope' as 'batch' }),
    ).rejects.toMatchObject({ status: 400, param: 'purpose' });
    await expect(
      client.uploads.create({ bytes: -1, filename: 'x', mime_type: 'application/jsonl', purpose: 'batch' }),
    ).rejects.toMatchObject({ status: 400, param: 'bytes' });
    const upload = await client.uploads.create({ bytes: 3, filename: 'x', mime_type: 'application/jsonl', purpose: 'batch' });
    const part = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('abc'), 'p') });
    const cancelled = await client.uploads.cancel(upload.id);
    expect(validateSchema('Upload', cancelled)).toEqual([]);
    expect(cancelled.status).toBe('cancelled');
    await expect(client.uploads.complete(upload.id, { part_ids: [part.id] })).rejects.toMatchObject({ status: 400 });
    await expect(client.uploads.cancel('upload_missing')).rejects.toMatchObject({ status: 404 });
    await expect(client.uploads.cancel('../../etc')).rejects.toMatchObject({ status: 404 });
  });

  it('serves the Azure paths too', async () => {
    const client = new OpenAI({
      apiKey: 'test-key-123',
      baseURL: `${harness.emulator.origin}/openai`,
      defaultQuery: { 'api-version': '2024-10-21' },
      maxRetries: 0,
    });
    const upload = await client.uploads.create({ bytes: 2, filename: 'a.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const part = await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('{}'), 'p') });
    const done = await client.uploads.complete(upload.id, { part_ids: [part.id] });
    expect(done.file?.bytes).toBe(2);
  });
});
