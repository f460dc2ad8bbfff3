/** Shared test harness: a temp data dir, an emulator, an SDK client, and JSONL builders. */

import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle, EmulatorOptions } from '../../src/emulator/types.js';

export const API_KEY = 'test-key-123';

export interface Harness {
  dir: string;
  emulator: EmulatorHandle;
  client: OpenAI;
  cleanup(): Promise<void>;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'transbatch-emulator-'));
}

export async function startHarness(options: Partial<EmulatorOptions> = {}, dir?: string): Promise<Harness> {
  const dataDir = dir ?? (await tempDir());
  const emulator = await startEmulator({ dataDir: join(dataDir, 'data'), apiKey: API_KEY, ...options });
  const client = new OpenAI({ apiKey: API_KEY, baseURL: emulator.url, maxRetries: 0 });
  return {
    dir: dataDir,
    emulator,
    client,
    async cleanup() {
      await emulator.close();
      if (!dir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function chatLine(customId: string, content: string, extra: Record<string, unknown> = {}, model = 'gpt-4o-mini'): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: {
      model,
      messages: [
        { role: 'system', content: 'Translate to French.' },
        { role: 'user', content },
      ],
      ...extra,
    },
  });
}

export function chatLines(count: number, prefix = 'row'): string {
  let text = '';
  for (let index = 0; index < count; index += 1) text += `${chatLine(`${prefix}-${index}`, `Hello number ${index}, see {name}.`)}\n`;
  return text;
}

/** Writes `text` to a temp file and uploads it as a stream. */
export async function uploadJsonl(harness: Harness, text: string, name = 'input.jsonl'): Promise<string> {
  const path = join(harness.dir, name);
  await writeFile(path, text);
  const file = await harness.client.files.create({ file: createReadStream(path), purpose: 'batch' });
  return file.id;
}

export async function createBatch(harness: Harness, inputFileId: string, metadata?: Record<string, string>): Promise<Batch> {
  return harness.client.batches.create({
    input_file_id: inputFileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    ...(metadata ? { metadata } : {}),
  });
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export async function waitForBatch(client: OpenAI, batchId: string, timeoutMs = 30_000, pollMs = 20): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(batchId);
    if (TERMINAL.has(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} still ${batch.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export async function fileLines(client: OpenAI, fileId: string | undefined): Promise<Record<string, unknown>[]> {
  if (!fileId) return [];
  const response = await client.files.content(fileId);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
