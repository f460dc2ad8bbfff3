/**
 * Azure OpenAI: the SDK's `AzureOpenAI` client against the emulator's Azure
 * paths (`/openai/files…`, `/openai/batches…`,
 * `/openai/deployments/{deployment}/chat/completions`, `?api-version=`,
 * `api-key` header), a whole `transbatch run` with `provider.kind: azure`,
 * and the local-model recipe (`kind: local, engine: upstream`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureOpenAI, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/types.js';
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { openProvider, TransbatchAzureOpenAI } from '../../src/provider/client.js';
import { runCliCapture } from '../helpers/cli.js';
import { createProject, newKey, readJsonl } from '../run/harness.js';

const API_VERSION = '2024-10-21';
let emulator: EmulatorHandle;
let dataDir: string;
let key: string;

beforeAll(async () => {
  key = newKey();
  dataDir = mkdtempSync(join(tmpdir(), 'tb-azure-'));
  emulator = await startEmulator({ dataDir, apiKey: key, engine: 'pseudo' });
});

afterAll(async () => {
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function line(customId: string, content: string, model = 'gpt-4o-mini'): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content }] },
  });
}

function httpEvents(path: string) {
  return emulator.events.filter((event) => event.type === 'http' && event.path === path);
}

describe('AzureOpenAI against the emulator', () => {
  it('files, batches, content and a deployment chat call over Azure paths with the api-key header', async () => {
    const client = new AzureOpenAI({ endpoint: emulator.origin, apiKey: key, apiVersion: API_VERSION, maxRetries: 0 });
    const jsonl = `${[line('a-1', 'Hello world'), line('a-2', 'Good morning')].join('\n')}\n`;
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'azure.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: Buffer.byteLength(jsonl) });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'azure' },
    });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id });
    let batch = created;
    for (let i = 0; i < 200 && batch.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      batch = await client.batches.retrieve(created.id);
    }
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const listed = await client.batches.list({ limit: 100 });
    expect(listed.data.map((item) => item.id)).toContain(created.id);
    const output = await (await client.files.content(batch.output_file_id!)).text();
    const lines = output
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { custom_id: string; response: { status_code: number } });
    expect(lines.map((item) => item.custom_id).sort()).toEqual(['a-1', 'a-2']);
    expect(lines.every((item) => item.response.status_code === 200)).toBe(true);

    const completion = await client.chat.completions.create({
      model: 'my-deployment',
      messages: [{ role: 'user', content: 'Hello world' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Ĥëëłłøø ŵøøŕłð ⟪ps⟫');
    expect(completion.model).toBe('my-deployment');
    // Mapped onto the OpenAI routes: same events, fault plans and objects.
    expect(httpEvents('/v1/batches').length).toBeGreaterThan(0);
    expect(httpEvents('/v1/chat/completions').at(-1)).toMatchObject({ method: 'POST', status: 200 });
  });

  it('serves the raw Azure shapes: api-version required, api-key or Bearer, deployment from the path', async () => {
    const base = `${emulator.origin}/openai`;
    const noVersion = await fetch(`${base}/batches`, { headers: { 'api-key': key } });
    expect(noVersion.status).toBe(404);
    expect(((await noVersion.json()) as { error: { message: string } }).error.message).toMatch(/api-version/);
    const azureKey = await fetch(`${base}/batches?api-version=${API_VERSION}`, { headers: { 'api-key': key } });
    expect(azureKey.status).toBe(200);
    expect(await azureKey.json()).toMatchObject({ object: 'list' });
    const bearer = await fetch(`${base}/files?api-version=${API_VERSION}`, { headers: { authorization: `Bearer ${key}` } });
    expect(bearer.status).toBe(200);
    const wrong = await fetch(`${base}/files?api-version=${API_VERSION}`, { headers: { 'api-key': 'nope' } });
    expect(wrong.status).toBe(401);
    // Azure's body needs no model: the deployment in the path names it.
    const chat = await fetch(`${base}/deployments/dep-1/chat/completions?api-version=${API_VERSION}`, {
      method: 'POST',
      headers: { 'api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(chat.status).toBe(200);
    expect(await chat.json()).toMatchObject({ object: 'chat.completion', model: 'dep-1' });
    // The v1 API needs no api-version.
    const v1 = await fetch(`${base}/v1/batches`, { headers: { 'api-key': key } });
    expect(v1.status).toBe(200);
  });

  it('the provider client keeps batches off per-deployment paths and sends chat to provider.deployment', async () => {
    const client = new TransbatchAzureOpenAI({
      baseURL: `${emulator.origin}/openai`,
      apiKey: key,
      apiVersion: API_VERSION,
      maxRetries: 0,
      transbatchDeployment: 'translator-prod',
    }).withOptions({ timeout: 30_000 });
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line('d-1', 'Hi')}\n`), 'd.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(batch.status).toBe('validating');
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(completion.model).toBe('translator-prod');
    // The plain SDK with its `deployment` option would post to /openai/deployments/…/batches: not a route.
    const plain = new AzureOpenAI({
      endpoint: emulator.origin,
      apiKey: key,
      apiVersion: API_VERSION,
      deployment: 'translator-prod',
      maxRetries: 0,
    });
    await expect(
      plain.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toThrow(/404/);
  });

  it('openProvider builds an Azure client from provider.endpoint, api_version and AZURE_OPENAI_API_KEY', async () => {
    const config = {
      configPath: '/x/pipeline.yaml',
      model: 'gpt-4o-mini',
      provider: { kind: 'azure', endpoint: emulator.origin, api_key_env: 'AZURE_OPENAI_API_KEY', engine: 'pseudo' },
    } as unknown as PipelineConfig;
    const provider = await openProvider(config, { AZURE_OPENAI_API_KEY: key });
    expect(provider.client).toBeInstanceOf(AzureOpenAI);
    expect(provider.describe).toContain('api-version 2024-10-21');
    expect(provider.describe).not.toContain(key);
    const page = await provider.client.batches.list();
    expect(Array.isArray(page.data)).toBe(true);
    await expect(openProvider(config, {})).rejects.toThrow(/AZURE_OPENAI_API_KEY/);
    const noEndpoint = { ...config, provider: { ...config.provider, endpoint: undefined } } as unknown as PipelineConfig;
    await expect(openProvider(noEndpoint, { AZURE_OPENAI_API_KEY: key, AZURE_OPENAI_ENDPOINT: '' })).rejects.toThrow(/provider\.endpoint/);
  });
});

describe('transbatch run with provider.kind azure', () => {
  it('finishes with exit 0 and the same output as with kind openai', async () => {
    const reference = createProject(emulator.url, key);
    const azure = createProject(emulator.url, key);
    try {
      const openaiRun = await runCliCapture(['run', reference.config], reference.env);
      expect(openaiRun.code, openaiRun.stderr).toBe(0);

      const yaml = readFileSync(azure.config, 'utf8').replace(
        /^provider: .*$/m,
        `provider: {kind: azure, endpoint: "${emulator.origin}", api_version: "${API_VERSION}"}`,
      );
      writeFileSync(azure.config, yaml);
      const before = httpEvents('/v1/batches').length;
      const { OPENAI_API_KEY: _unused, ...rest } = azure.env;
      const result = await runCliCapture(['run', azure.config], { ...rest, AZURE_OPENAI_API_KEY: key, OPENAI_API_KEY: '' });
      expect(result.code, result.stderr).toBe(0);
      expect(httpEvents('/v1/batches').length).toBeGreaterThan(before);
      expect(result.stdout + result.stderr).not.toContain(key);
      expect(readFileSync(azure.output('ko'), 'utf8')).toBe(readFileSync(reference.output('ko'), 'utf8'));
      expect(readJsonl(azure.output('ko'))).toHaveLength(12);
    } finally {
      reference.cleanup();
      azure.cleanup();
    }
  });
});

describe('local models through the upstream engine', () => {
  it('runs a pipeline with kind local, engine upstream against an OpenAI-compatible server ("Ollama")', async () => {
    const ollamaKey = newKey();
    const ollamaDir = mkdtempSync(join(tmpdir(), 'tb-ollama-'));
    const ollama = await startEmulator({ dataDir: ollamaDir, apiKey: ollamaKey, engine: 'pseudo' });
    const project = createProject(emulator.url, key);
    try {
      const yaml = readFileSync(project.config, 'utf8').replace(
        /^provider: .*$/m,
        `provider: {kind: local, engine: upstream, upstream_url: "${ollama.url}", upstream_api_key_env: OLLAMA_KEY}`,
      );
      writeFileSync(project.config, yaml);
      const result = await runCliCapture(['run', project.config], { ...project.env, OPENAI_API_KEY: '', OLLAMA_KEY: ollamaKey });
      expect(result.code, result.stderr).toBe(0);
      const rows = readJsonl<{ title: string; body: string }>(project.output('ko'));
      expect(rows).toHaveLength(12);
      expect(rows[0]?.title).toContain('⟪ps⟫');
      // Every translation was a direct chat call on the "Ollama" server: 12 rows × 2 fields.
      const calls = ollama.events.filter((event) => event.type === 'http' && event.path === '/v1/chat/completions' && event.status === 200);
      expect(calls).toHaveLength(24);
      expect(result.stdout + result.stderr).not.toContain(ollamaKey);
    } finally {
      await ollama.close();
      rmSync(ollamaDir, { recursive: true, force: true });
      project.cleanup();
    }
  });
});
