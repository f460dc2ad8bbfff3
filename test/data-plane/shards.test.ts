/**
 * Build and shard: request files within the configured limits, every request
 * exactly once, deterministic custom_ids and bytes, and every line a valid
 * OpenAI batch request.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCapture } from '../helpers/cli.js';
import { validateSchema } from '../helpers/openapi.js';
import { expectNoStack, makeTempDir, openStateDb, readShards, type ShardFileInfo, writeJsonl, writePipeline } from './fixtures.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

/** 30 distinct rows of varied length (some multi-byte), two text fields. */
function sampleRecords(): { id: number; title: string; body: string }[] {
  const words = ['alpha', 'beta', 'gamma', 'Straße', '東京', 'naïve', 'café', 'delta', 'epsilon'];
  return Array.from({ length: 30 }, (_, i) => ({
    id: i,
    title: `Title number ${i}`,
    body: `Row ${i}: ${Array.from({ length: 1 + (i % 7) * 4 }, (_, k) => words[(i + k) % words.length]).join(' ')}.`,
  }));
}

const LANGS = ['de', 'fr'];

function writeSample(overrides: Record<string, unknown> = {}): string {
  writeJsonl(join(dir, 'input.jsonl'), sampleRecords());
  return writePipeline(dir, { fields: ['title', 'body'], target_languages: LANGS, ...overrides });
}

function parsedLines(shards: ShardFileInfo[]): { custom_id: string; method: string; url: string; body: { model: string } }[] {
  return shards.flatMap((shard) => shard.lines.map((line) => JSON.parse(line)));
}

/** custom_ids of every request the state says is queued for sending. */
function queuedCustomIds(runDir: string): string[] {
  const db = openStateDb(runDir);
  try {
    return (
      db.prepare('SELECT custom_id FROM requests WHERE id NOT IN (SELECT request_id FROM outcomes) ORDER BY custom_id').all() as {
        custom_id: string;
      }[]
    ).map((row) => row.custom_id);
  } finally {
    db.close();
  }
}

async function prepare(config: string, ...extra: string[]) {
  const result = await runCliCapture(['prepare', config, ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

describe('shard limits', () => {
  it('max_requests_per_file: every shard has at most 7 lines and the shards hold every request exactly once', async () => {
    const config = writeSample({ batch: { max_requests_per_file: 7 } });
    await prepare(config);
    const runDir = join(dir, 'run');
    const shards = readShards(runDir);
    const ids = parsedLines(shards).map((line) => line.custom_id);
    // 30 rows × 2 fields × 2 languages, all distinct texts.
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(queuedCustomIds(runDir));
    for (const shard of shards) expect(shard.lines.length).toBeLessThanOrEqual(7);
    // Shards are filled before a new one starts: 17 of 7 and one of 1.
    expect(shards.map((shard) => shard.lines.length)).toEqual([...Array(17).fill(7), 1]);
  });

  it('the state records each shard with its real line count, size and sha256', async () => {
    const config = writeSample({ batch: { max_requests_per_file: 50 } });
    await prepare(config);
    const runDir = join(dir, 'run');
    const files = readShards(runDir);
    const db = openStateDb(runDir);
    const rows = db.prepare('SELECT number, path, lines, bytes, sha256, status FROM shards ORDER BY number').all() as {
      number: number;
      path: string;
      lines: number;
      bytes: number;
      sha256: string;
      status: string;
    }[];
    db.close();
    expect(rows.map((row) => row.path)).toEqual(files.map((file) => file.path));
    for (const [index, row] of rows.entries()) {
      const file = files[index]!;
      expect(row).toMatchObject({
        number: index + 1,
        lines: file.lines.length,
        bytes: file.bytes.length,
        sha256: createHash('sha256').update(file.bytes).digest('hex'),
        status: 'built',
      });
    }
  });

  it('max_bytes_per_file: every shard file is at most that many bytes and no request is lost', async () => {
    const config = writeSample({ batch: { max_bytes_per_file: 3000 } });
    await prepare(config);
    const runDir = join(dir, 'run');
    const shards = readShards(runDir);
    expect(shards.length).toBeGreaterThan(3);
    for (const shard of shards) expect(shard.bytes.length).toBeLessThanOrEqual(3000);
    // Greedy: a shard was closed only because the next line did not fit.
    for (let i = 0; i + 1 < shards.length; i++) {
      const nextLine = Buffer.byteLength(shards[i + 1]!.lines[0]!) + 1;
      expect(shards[i]!.bytes.length + nextLine).toBeGreaterThan(3000);
    }
    const ids = parsedLines(shards).map((line) => line.custom_id);
    expect(new Set(ids).size).toBe(120);
    expect([...ids].sort()).toEqual(queuedCustomIds(runDir));
  });

  it('sizes like "3KB" in the config are bytes limits too', async () => {
    const config = writeSample({ batch: { max_bytes_per_file: '3KB' } });
    await prepare(config);
    const shards = readShards(join(dir, 'run'));
    for (const shard of shards) expect(shard.bytes.length).toBeLessThanOrEqual(3000);
    expect(parsedLines(shards)).toHaveLength(120);
  });

  it('a line exactly at the limit gets a shard of its own; one byte less is an error naming the row', async () => {
    const records = [
      { id: 0, text: 'Short one.' },
      { id: 1, text: `A much longer text. ${'Lorem ipsum dolor sit amet. '.repeat(20)}` },
      { id: 2, text: 'Short two.' },
    ];
    writeJsonl(join(dir, 'input.jsonl'), records);
    // First pass without limits, to learn the size of the long row's request line.
    const probe = writePipeline(dir, { target_languages: ['de'] });
    await prepare(probe, '--run-dir', join(dir, 'probe'));
    const probeLines = readShards(join(dir, 'probe')).flatMap((shard) => shard.lines);
    expect(probeLines).toHaveLength(3);
    const longLine = probeLines.find((line) => JSON.parse(line).custom_id.startsWith('r1.'))!;
    const limit = Buffer.byteLength(longLine) + 1;

    const exact = writePipeline(dir, { target_languages: ['de'], batch: { max_bytes_per_file: limit } });
    await prepare(exact);
    const shards = readShards(join(dir, 'run'));
    expect(shards.map((shard) => shard.lines.map((line) => JSON.parse(line).custom_id.split('.')[0]))).toEqual([['r0'], ['r1'], ['r2']]);
    expect(shards[1]!.bytes.length).toBe(limit);

    const tooSmall = writePipeline(dir, { target_languages: ['de'], batch: { max_bytes_per_file: limit - 1 }, run_dir: 'run2' });
    const result = await runCliCapture(['prepare', tooSmall]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('max_bytes_per_file');
    expect(result.stderr).toContain(`${limit} bytes`);
    expect(result.stderr).toMatch(/row 1\b/);
    expect(expectNoStack(result.stderr)).toBe(true);
    expect(readShards(join(dir, 'run2'))).toEqual([]);
    expect(existsSync(join(dir, 'run2', 'shards'))).toBe(false);
  });
});

describe('shard format', () => {
  it('UTF-8 without BOM, newline-terminated, one JSON request object per line, one model and one url per file', async () => {
    const config = writeSample({ batch: { max_requests_per_file: 40 } });
    await prepare(config);
    const shards = readShards(join(dir, 'run'));
    expect(shards.map((shard) => shard.name)).toEqual(['shard-00001.jsonl', 'shard-00002.jsonl', 'shard-00003.jsonl']);
    for (const shard of shards) {
      expect([...shard.bytes.subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]);
      expect(shard.bytes.at(-1)).toBe(0x0a);
      expect(shard.bytes.includes(0x0d)).toBe(false);
      // Valid UTF-8: decoding and re-encoding is lossless.
      expect(Buffer.from(shard.bytes.toString('utf8'), 'utf8').equals(shard.bytes)).toBe(true);
      const lines = shard.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const line of lines) {
        expect(typeof line).toBe('object');
        expect(Object.keys(line).sort()).toEqual(['body', 'custom_id', 'method', 'url']);
        expect(line['method']).toBe('POST');
      }
      expect(new Set(lines.map((line) => line['url']))).toEqual(new Set(['/v1/chat/completions']));
      expect(new Set(lines.map((line) => (line['body'] as { model: string }).model))).toEqual(new Set(['gpt-4o-mini']));
    }
    // Multi-byte text survives as text (not mojibake).
    expect(shards.some((shard) => shard.bytes.toString('utf8').includes('東京'))).toBe(true);
  });

  it('every line validates against BatchRequestInput and its body against CreateChatCompletionRequest', async () => {
    const config = writeSample({ request: { temperature: 0, max_tokens: 512 }, prompt: { glossary: { alpha: 'ALPHA' } } });
    await prepare(config);
    const lines = parsedLines(readShards(join(dir, 'run')));
    expect(lines).toHaveLength(120);
    for (const line of lines) {
      expect(validateSchema('BatchRequestInput', line)).toEqual([]);
      expect(validateSchema('CreateChatCompletionRequest', line.body)).toEqual([]);
      expect(line.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0, max_tokens: 512 });
    }
  });

  it('the validator is not vacuous: a broken line fails it', () => {
    expect(validateSchema('BatchRequestInput', { custom_id: 'x', method: 'GET', url: '/v1/chat/completions' })).not.toEqual([]);
    expect(validateSchema('CreateChatCompletionRequest', { model: 'gpt-4o-mini' })).not.toEqual([]);
  });
});

describe('custom_id', () => {
  it('unique across shards, at most 64 printable ASCII characters', async () => {
    const config = writeSample({ batch: { max_requests_per_file: 11 } });
    await prepare(config);
    const ids = parsedLines(readShards(join(dir, 'run'))).map((line) => line.custom_id);
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(64);
      expect(id).toMatch(/^[\x21-\x7e]+$/);
    }
  });

  it('deterministic: the same config and input prepared into two run dirs give byte-identical shards', async () => {
    const config = writeSample({ batch: { max_requests_per_file: 13 } });
    await prepare(config, '--run-dir', join(dir, 'first'));
    await prepare(config, '--run-dir', join(dir, 'second'));
    const digest = (shards: ShardFileInfo[]) => shards.map((shard) => [shard.name, createHash('sha256').update(shard.bytes).digest('hex')]);
    const first = readShards(join(dir, 'first'));
    const second = readShards(join(dir, 'second'));
    expect(first.length).toBe(10);
    expect(digest(second)).toEqual(digest(first));
  });

  it('--fresh re-prepares the same bytes in the same run dir', async () => {
    const config = writeSample();
    await prepare(config);
    const before = readShards(join(dir, 'run')).map((shard) => shard.bytes.toString('base64'));
    await prepare(config, '--fresh');
    const after = readShards(join(dir, 'run')).map((shard) => shard.bytes.toString('base64'));
    expect(after).toEqual(before);
  });
});

describe('dedupe', () => {
  it('identical (text, language) cells are sent once; every unit still points at a request', async () => {
    writeJsonl(join(dir, 'input.jsonl'), [{ text: 'Same text.' }, { text: 'Same text.' }, { text: 'Other text.' }]);
    const config = writePipeline(dir, { target_languages: ['de', 'fr'] });
    await prepare(config);
    const lines = parsedLines(readShards(join(dir, 'run')));
    expect(lines.map((line) => line.custom_id).sort()).toEqual(['r0.c0.de.k0', 'r0.c0.fr.k0', 'r2.c0.de.k0', 'r2.c0.fr.k0']);
    const db = openStateDb(join(dir, 'run'));
    const units = db.prepare('SELECT COUNT(*) AS n FROM units').get() as { n: number };
    db.close();
    expect(units.n).toBe(6);
  });
});
