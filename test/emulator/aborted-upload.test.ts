import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, startHarness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const BOUNDARY = 'transbatch-test-boundary';

/** Sends the head of a multipart upload, then drops the connection mid-body (a client killed while uploading). */
async function abortMidUpload(url: string, field: string): Promise<void> {
  const target = new URL(url);
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await new Promise<void>((resolve) => {
      const req = request(target, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${API_KEY}`,
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-length': String(10_000_000),
        },
      });
      req.on('error', () => resolve());
      req.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`);
      req.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="a.jsonl"\r\n\r\n`);
      req.write(`${'{"custom_id":"r0"}\n'.repeat(20_000)}`, () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
    });
    // Give the server time to notice the reset and settle what it had started.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  expect(rejections).toEqual([]);
}

describe('an upload whose client disconnects mid-body', () => {
  it('POST /v1/files: the request fails quietly and the emulator keeps serving', async () => {
    harness = await startHarness();
    await abortMidUpload(`${harness.emulator.url}/files`, 'file');
    const files = await harness.client.files.list();
    expect(files.data).toEqual([]);
  });

  it('POST /v1/uploads/{id}/parts: the same for a part', async () => {
    harness = await startHarness();
    const upload = await harness.client.uploads.create({
      bytes: 1000,
      filename: 'a.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    await abortMidUpload(`${harness.emulator.url}/uploads/${upload.id}/parts`, 'data');
    expect((await harness.client.uploads.cancel(upload.id)).status).toBe('cancelled');
  });
});
