import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../src/config/json-schema.js';
import { loadPipelineConfig, rejectsPathFor } from '../../src/config/load.js';
import { parseByteSize, parseDurationMs } from '../../src/config/units.js';
import { TransbatchError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tb-config-'));
  dirs.push(dir);
  const path = join(dir, 'pipeline.yaml');
  writeFileSync(path, yaml);
  return path;
}

const minimal = `name: demo
input:
  path: data/in.jsonl
fields: [instruction]
target_languages: [ko]
model: gpt-4o-mini
output:
  path: out/{name}.{lang}.jsonl
`;

function configError(yaml: string): TransbatchError {
  try {
    loadPipelineConfig(writeConfig(yaml));
  } catch (error) {
    if (error instanceof TransbatchError) return error;
    throw error;
  }
  throw new Error('expected a config error');
}

describe('units', () => {
  it.each([
    [30, 30_000],
    [0.5, 500],
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5', 1500],
  ])('duration %s → %d ms', (input, ms) => expect(parseDurationMs(input)).toBe(ms));
  it.each(['soon', '-1s', '5 days'])('rejects duration %s', (input) => expect(parseDurationMs(input)).toBeUndefined());
  it.each([
    ['190MB', 190_000_000],
    ['512 KiB', 524_288],
    [1000, 1000],
  ])('size %s → %d bytes', (input, bytes) => expect(parseByteSize(input)).toBe(bytes));
});

describe('loadPipelineConfig', () => {
  it('fills defaults and resolves paths against the config folder', () => {
    const path = writeConfig(minimal);
    const config = loadPipelineConfig(path);
    const dir = join(path, '..');
    expect(config.input).toEqual({ path: join(dir, 'data/in.jsonl'), format: 'jsonl' });
    expect(config.outputs).toEqual([{ path: join(dir, 'out/demo.{lang}.jsonl'), format: 'jsonl', mode: 'replace' }]);
    expect(config.runDir).toBe(join(dir, 'runs/demo'));
    expect(config.batch).toMatchObject({
      max_requests_per_file: 50_000,
      max_bytes_per_file: 190_000_000,
      max_in_flight: 10,
      poll_interval: 30_000,
    });
    expect(config.retry.max_attempts).toBe(3);
    expect(config.checks).toEqual(['nonempty', 'not_truncated', 'placeholders', 'language', 'unchanged', 'length_ratio']);
    expect(config.split.protect).toEqual(['code', 'urls', 'emails', 'placeholders', 'html', 'math']);
    expect(config.provider).toMatchObject({ kind: 'openai', api_key_env: 'OPENAI_API_KEY' });
  });

  it('names a misspelt key with its path and line', () => {
    const error = configError(`${minimal}batch:\n  max_in_flght: 3\n`);
    expect(error.message).toContain('unknown key batch.max_in_flght');
    expect(error.context.line).toBe(10);
    expect(error.exitCode).toBe(1);
  });

  it('names a key of the wrong type', () => {
    const error = configError(minimal.replace('target_languages: [ko]', 'target_languages: ko'));
    expect(error.message).toContain('target_languages');
    expect(error.context.line).toBe(5);
  });

  it('needs {lang} in a replace-mode path with several languages', () => {
    const error = configError(minimal.replace('[ko]', '[ko, ja]').replace('out/{name}.{lang}.jsonl', 'out/all.jsonl'));
    expect(error.message).toContain('output.path');
    expect(error.message).toContain('{lang}');
  });

  it('refuses to override body keys transbatch sets', () => {
    expect(configError(`${minimal}request:\n  model: other\n`).message).toContain('request.model');
  });

  it('reports invalid YAML with its line', () => {
    const error = configError('name: demo\ninput: [unclosed\n');
    expect(error.message).toContain('invalid YAML');
    expect(error.context.line).toBeGreaterThan(0);
  });

  it('puts rejects beside the output', () => {
    expect(rejectsPathFor('/x/out/a.ko.jsonl')).toBe('/x/out/a.ko.rejects.jsonl');
    expect(rejectsPathFor('/x/out/data')).toBe('/x/out/data.rejects.jsonl');
  });
});

describe('JSON Schema for editors', () => {
  it('is committed up to date (npm run schema regenerates it)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../schema/pipeline.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(pipelineJsonSchema());
  });

  it('is referenced by every example pipeline', () => {
    for (const name of ['example.yaml', 'chat-ko.yaml', 'support-csv.yaml']) {
      const text = readFileSync(new URL(`../../pipelines/${name}`, import.meta.url), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/pipeline.schema.json');
    }
  });
});
