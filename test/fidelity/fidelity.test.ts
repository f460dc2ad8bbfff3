/**
 * Translations a dataset can trust, end to end on the emulator: protected
 * spans survive byte for byte (chunked texts too), packing gives the same
 * output as per-cell requests and falls back when a packed answer is broken,
 * and the response cache makes a second run free.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTECT_KINDS } from '../../src/config/schema.js';
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { findProtectedSpans } from '../../src/split/protect.js';
import { REPO_ROOT, runCliCapture } from '../helpers/cli.js';

const KEY = 'sk-fidelity-test-0123456789abcdef';
let dir: string;
let cacheDir: string;
let emulator: EmulatorHandle;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-fidelity-'));
  cacheDir = join(dir, 'cache');
});

afterEach(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(faults?: Record<string, unknown>): Promise<void> {
  emulator = await startEmulator({
    dataDir: join(dir, `emulator-${Date.now()}`),
    apiKey: KEY,
    engine: 'pseudo',
    ...(faults ? { faults: faults as never } : {}),
  });
}

function pipeline(name: string, extra: string, input = 'alpaca-mini.jsonl', fields = '[instruction, input, output]'): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `name: ${name}
input:
  path: ${join(REPO_ROOT, 'data-samples', input)}
fields: ${fields}
source_language: en
target_languages: [ko]
model: gpt-4o-mini
provider:
  kind: openai
  base_url: ${emulator.url}
checks: [nonempty, not_truncated, placeholders]
batch:
  poll_interval: 50ms
output:
  path: out/${name}.{lang}.jsonl
${extra}`,
  );
  return path;
}

const run = (config: string) => runCliCapture(['run', config], { OPENAI_API_KEY: KEY, TRANSBATCH_CACHE_DIR: cacheDir });
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const spansOf = (text: string) => findProtectedSpans(text, PROTECT_KINDS).map((span) => text.slice(span.start, span.end));
const uploads = () => emulator.events.filter((event) => event.type === 'file.created' && event.purpose === 'batch').length;

function expectSpansKept(sourcePath: string, outputPath: string, fields: readonly string[]): number {
  const sources = readJsonl(sourcePath);
  const outputs = readJsonl(outputPath);
  expect(outputs).toHaveLength(sources.length);
  let checked = 0;
  sources.forEach((source, row) => {
    for (const field of fields) {
      const text = source[field];
      if (typeof text !== 'string' || text === '') continue;
      const translated = outputs[row]![field] as string;
      expect(translated).not.toBe(text);
      // Every protected span of the source is in the translation, byte for byte and in order.
      expect(spansOf(translated).filter((span) => spansOf(text).includes(span))).toEqual(spansOf(text));
      checked += spansOf(text).length;
    }
  });
  return checked;
}

describe('protected spans', () => {
  it('come back byte-identical, in chunked texts too', async () => {
    await startServer();
    const config = pipeline('spans', 'split:\n  max_chunk_tokens: 40\n');
    const result = await run(config);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const checked = expectSpansKept(join(REPO_ROOT, 'data-samples/alpaca-mini.jsonl'), join(dir, 'out/spans.ko.jsonl'), [
      'instruction',
      'input',
      'output',
    ]);
    expect(checked).toBeGreaterThan(20);
    // The long story was cut into chunks, and its paragraphs came back in place.
    const story = readJsonl(join(dir, 'out/spans.ko.jsonl')).find((row) => row['id'] === 'a014')!['output'] as string;
    expect(story.split('\n\n')).toHaveLength(4);
    const shard = readFileSync(join(dir, 'runs/spans/shards/shard-00001.jsonl'), 'utf8');
    expect(shard).toContain('"custom_id":"r13.c2.ko.k3"');
  });
});

describe('packing', () => {
  it('gives the same output as per-cell requests with fewer requests and tokens', async () => {
    await startServer();
    const plain = pipeline('plain', '');
    const packed = pipeline('packed', 'split:\n  pack: row\n');
    expect((await run(plain)).code).toBe(0);
    expect((await run(packed)).code).toBe(0);
    expect(readFileSync(join(dir, 'out/packed.ko.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'out/plain.ko.jsonl'), 'utf8'));
    const report = (name: string) => JSON.parse(readFileSync(join(dir, `runs/${name}/report.json`), 'utf8'));
    expect(report('packed').requests.total).toBeLessThan(report('plain').requests.total / 2);
    expect(report('packed').tokens.input).toBeLessThan(report('plain').tokens.input * 0.75);
  });

  it('falls back to per-cell requests when a packed answer is not valid', async () => {
    // Every packed answer is cut in half: invalid JSON. Without the truncation check it must fall back.
    await startServer({ requests: [{ custom_id: '\\.pack$', kind: 'truncate' }] });
    const plain = pipeline('plain2', '');
    const packed = pipeline('packed2', 'split:\n  pack: row\n');
    writeFileSync(
      packed,
      readFileSync(packed, 'utf8').replace('checks: [nonempty, not_truncated, placeholders]', 'checks: [nonempty, placeholders]'),
    );
    expect((await run(plain)).code).toBe(0);
    const result = await run(packed);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'out/packed2.ko.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'out/plain2.ko.jsonl'), 'utf8'));
    const shards = readFileSync(join(dir, 'runs/packed2/shards/shard-00002.jsonl'), 'utf8').split('\n').filter(Boolean);
    // The retry shard holds per-cell requests only.
    expect(shards.map((line) => /"custom_id":"([^"]+)"/.exec(line)?.[1]).filter((id) => !/^r\d+\.c\d+\.ko\.k0$/.test(id ?? ''))).toEqual(
      [],
    );
  });
});

describe('response cache', () => {
  it('makes a second run of a changed config pay only for what changed, and an output-only change free', async () => {
    await startServer();
    const first = pipeline('cache1', '');
    expect((await run(first)).code).toBe(0);
    const afterFirst = uploads();
    expect(afterFirst).toBeGreaterThan(0);

    // Only the output format changed: re-merged, not a single request sent.
    writeFileSync(first, readFileSync(first, 'utf8').replace('out/cache1.{lang}.jsonl', 'out/cache1.{lang}.csv'));
    const again = await run(first);
    expect(again.code).toBe(0);
    expect(uploads()).toBe(afterFirst);
    expect(readFileSync(join(dir, 'out/cache1.ko.csv'), 'utf8').split('\n')[0]).toBe('id,instruction,input,output');

    // A new run dir with the same requests: every answer comes from the cache.
    const second = pipeline('cache2', '');
    const result = await run(second);
    expect(result.code).toBe(0);
    expect(uploads()).toBe(afterFirst);
    expect(readFileSync(join(dir, 'out/cache2.ko.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'out/cache1.ko.jsonl'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'runs/cache2/report.json'), 'utf8')).requests.cached).toBeGreaterThan(0);

    // --fresh discards the run state but keeps the cache.
    expect((await runCliCapture(['run', second, '--fresh'], { OPENAI_API_KEY: KEY, TRANSBATCH_CACHE_DIR: cacheDir })).code).toBe(0);
    expect(uploads()).toBe(afterFirst);
  });

  it('never reuses a rehearsal answer for another provider', async () => {
    await startServer();
    const rehearsal = join(dir, 'local.yaml');
    writeFileSync(
      rehearsal,
      readFileSync(pipeline('local', ''), 'utf8').replace(
        `provider:\n  kind: openai\n  base_url: ${emulator.url}`,
        'provider:\n  kind: local',
      ),
    );
    expect((await run(rehearsal)).code).toBe(0);
    const real = pipeline('real', '');
    expect((await run(real)).code).toBe(0);
    expect(uploads()).toBeGreaterThan(0);
  });
});
