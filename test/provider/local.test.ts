/**
 * `provider.kind: local`: the emulator runs in a worker thread of the same
 * process (here started from the TypeScript sources, as under the CLI from
 * `dist/`), answers over loopback, uploads in parts and serves file content,
 * stops on close, and reports start-up errors as before.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/types.js';
import { startEmulatorThread } from '../../src/emulator/thread.js';
import { openProvider } from '../../src/provider/client.js';
import { uploadBatchFile } from '../../src/submit/upload.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tb-local-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function localConfig(dir: string, provider: Record<string, unknown> = {}): PipelineConfig {
  return {
    configPath: join(dir, 'pipeline.yaml'),
    configDir: dir,
    runDir: join(dir, 'run'),
    model: 'gpt-4o-mini',
    provider: { kind: 'local', engine: 'echo', api_key_env: 'OPENAI_API_KEY', ...provider },
  } as unknown as PipelineConfig;
}

describe('the local provider in a worker thread', () => {
  it('runs a batch end to end (uploaded in parts, content streamed back) and stops on close', async () => {
    const dir = tempDir();
    const provider = await openProvider(localConfig(dir), {});
    const lines = Array.from({ length: 3000 }, (_, index) =>
      JSON.stringify({
        custom_id: `r${index}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `text ${index} ${'é'.repeat(index % 300)}` }] },
      }),
    );
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const file = await uploadBatchFile(provider.client, input, { threshold: 64 * 1024, partBytes: 100_000 });
    const batch = await provider.client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    let done = await provider.client.batches.retrieve(batch.id);
    while (done.status !== 'completed') {
      expect(['validating', 'in_progress', 'finalizing']).toContain(done.status);
      await new Promise((resolve) => setTimeout(resolve, 50));
      done = await provider.client.batches.retrieve(batch.id);
    }
    const content = await (await provider.client.files.content(done.output_file_id as string)).text();
    const answers = content
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { custom_id: string; response: { body: { choices: { message: { content: string } }[] } } });
    expect(answers).toHaveLength(3000);
    const byId = new Map(answers.map((answer) => [answer.custom_id, answer.response.body.choices[0]?.message.content]));
    expect(byId.get('r2999')).toBe(`text 2999 ${'é'.repeat(2999 % 300)}`);
    await provider.close();
    await expect(provider.client.batches.list({}, { maxRetries: 0 })).rejects.toThrow(/Connection error/);
  });

  it('reports a start-up error with the emulator message', async () => {
    const dir = tempDir();
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'a file where the data dir should be');
    await expect(startEmulatorThread({ dataDir: join(blocked, 'emulator'), apiKey: 'k' })).rejects.toThrow(/ENOTDIR|EEXIST/);
    await expect(
      startEmulatorThread({ dataDir: join(dir, 'ok'), apiKey: 'k', faults: { http: [{ route: 'POST /v1/files', status: 418 }] } as never }),
    ).rejects.toThrow(/invalid fault plan: http\.0\.status/);
  });

  it('loads the fault plan of the config before starting the worker', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'faults.yaml'), 'surprise: 1\n');
    await expect(openProvider(localConfig(dir, { faults: 'faults.yaml' }), {})).rejects.toThrow(/invalid fault plan/);
    expect(await readFile(join(dir, 'faults.yaml'), 'utf8')).toContain('surprise');
  });
});
