/**
 * uploadBatchFile: big files go through the Uploads API in parts without
 * being held in memory; small ones through one files.create; transient part
 * failures are retried. The memory test talks to an emulator in a CHILD
 * process, so this process's RSS is the client's alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supportsUploadsApi, uploadBatchFile } from '../../src/submit/upload.js';
import { startHarness } from '../emulator/harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** ~`lines` JSONL lines of ~950 bytes. */
async function writeBigFile(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. '.repeat(11);
  let block = '';
  for (let index = 0; index < lines; index += 1) {
    block += `${JSON.stringify({ custom_id: `row-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: filler }] } })}\n`;
    if (block.length > 1_000_000) {
      if (!out.write(block)) await once(out, 'drain');
      block = '';
    }
  }
  out.end(block);
  await once(out, 'finish');
}

interface ChildEmulator {
  child: ChildProcess;
  baseURL: string;
  apiKey: string;
}

async function startChildEmulator(dataDir: string): Promise<ChildEmulator> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--engine', 'echo', '--api-key', 'child-key'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let printed = '';
  child.stdout?.setEncoding('utf8');
  const baseURL = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
    child.stdout?.on('data', (chunk: string) => {
      printed += chunk;
      const url = /OPENAI_BASE_URL=(\S+)/.exec(printed)?.[1];
      if (url && /OPENAI_API_KEY=/.test(printed)) resolve(url);
    });
  });
  child.stderr?.resume();
  const apiKey = /OPENAI_API_KEY=(\S+)/.exec(printed)?.[1] ?? '';
  return { child, baseURL, apiKey };
}

describe('uploadBatchFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'transbatch-upload-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a ~190 MB file through the Uploads API with bounded client memory', async () => {
    const path = join(dir, 'big.jsonl');
    await writeBigFile(path, 200_000);
    const expected = await sha256File(path);
    const emulator = await startChildEmulator(join(dir, 'data'));
    try {
      const client = new OpenAI({ apiKey: emulator.apiKey, baseURL: emulator.baseURL, maxRetries: 0 });
      // Warm up the HTTP stack (fetch is loaded on first use) with a tiny upload through the same path.
      const warm = join(dir, 'warm.jsonl');
      await writeFile(warm, '{"custom_id":"w"}\n');
      await uploadBatchFile(client, warm, { threshold: 1, partBytes: 8 });
      gc();
      const { rss: baseline, arrayBuffers: buffersBefore } = process.memoryUsage();
      let peak = baseline;
      let buffersPeak = buffersBefore;
      const sampler = setInterval(() => {
        const usage = process.memoryUsage();
        peak = Math.max(peak, usage.rss);
        buffersPeak = Math.max(buffersPeak, usage.arrayBuffers);
      }, 20);
      let file: Awaited<ReturnType<typeof uploadBatchFile>>;
      const started = performance.now();
      try {
        file = await uploadBatchFile(client, path);
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      const seconds = (performance.now() - started) / 1000;
      const size = (await import('node:fs')).statSync(path).size;
      console.info(
        `uploaded ${(size / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s; client RSS growth ${((peak - baseline) / 1e6).toFixed(1)} MB, ArrayBuffers ${((buffersPeak - buffersBefore) / 1e6).toFixed(1)} MB`,
      );
      expect(size).toBeGreaterThan(180_000_000);
      expect(file.bytes).toBe(size);
      expect(file.purpose).toBe('batch');
      expect(peak - baseline).toBeLessThan(64 * 1024 * 1024);
      // The 1 MB reads cycle through a ring of 4 buffers: fresh ones would pile up to ~64 MB before a GC freed them.
      expect(buffersPeak - buffersBefore).toBeLessThan(24 * 1024 * 1024);
      // What the emulator stored is byte-identical.
      expect(await sha256File(join(dir, 'data', 'files', `${file.id}.data`))).toBe(expected);
    } finally {
      emulator.child.kill('SIGTERM');
      await once(emulator.child, 'exit');
    }
  }, 180_000);

  it('retries a part that fails with a 500, and a 429 with Retry-After', async () => {
    const harness = await startHarness({
      faults: {
        http: [
          { route: 'POST /v1/uploads/{id}/parts', status: 500, times: 1 },
          { route: 'POST /v1/uploads/{id}/parts', status: 429, retry_after_seconds: 0, times: 1 },
        ],
      },
    });
    try {
      const path = join(harness.dir, 'small.jsonl');
      let text = '';
      for (let index = 0; index < 500; index += 1) text += `{"custom_id":"r${index}","n":${index}}\n`;
      await writeFile(path, text);
      const logged: string[] = [];
      const file = await uploadBatchFile(harness.client, path, {
        threshold: 1024,
        partBytes: 4096,
        sleep: async () => {},
        log: (message) => logged.push(message),
      });
      expect(file.bytes).toBe(Buffer.byteLength(text));
      expect(await (await harness.client.files.content(file.id)).text()).toBe(text);
      const parts = harness.emulator.events.filter((e) => e.type === 'http' && /^\/v1\/uploads\/[^/]+\/parts$/.test(e.path));
      const partCount = Math.ceil(Buffer.byteLength(text) / 4096);
      expect(parts.map((e) => (e.type === 'http' ? e.status : 0))).toEqual([500, 429, ...Array(partCount).fill(200)]);
      expect(logged).toHaveLength(2);
      expect(harness.emulator.events.filter((e) => e.type === 'file.created')).toHaveLength(1);
    } finally {
      await harness.cleanup();
    }
  });

  it('sends small files (and every file to Azure) through one files.create', async () => {
    const harness = await startHarness();
    try {
      const path = join(harness.dir, 'tiny.jsonl');
      await writeFile(path, '{"custom_id":"a"}\n');
      const small = await uploadBatchFile(harness.client, path);
      const big = await uploadBatchFile(harness.client, path, { threshold: 1, useUploadsApi: false });
      expect([small.bytes, big.bytes]).toEqual([18, 18]);
      const paths = harness.emulator.events.flatMap((e) => (e.type === 'http' ? [`${e.method} ${e.path}`] : []));
      expect(paths).toEqual(['POST /v1/files', 'POST /v1/files']);
      expect(supportsUploadsApi(harness.client)).toBe(true);
      expect(supportsUploadsApi(new AzureOpenAI({ apiKey: 'k', endpoint: 'https://x.openai.azure.com', apiVersion: '2024-10-21' }))).toBe(
        false,
      );
    } finally {
      await harness.cleanup();
    }
  });
});
