/** Config errors through `transbatch prepare`: exit 1, one message naming what and where, no stack, nothing prepared. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCapture, spawnCli, waitForExit } from '../helpers/cli.js';
import { expectNoStack, jsonlFilesUnder, makeTempDir, writeJsonl, writePipeline } from './fixtures.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  writeJsonl(join(dir, 'input.jsonl'), [{ text: 'Hello there.' }, { text: 'Good morning.' }]);
});
afterEach(() => cleanup());

describe('prepare: config errors', () => {
  it('a misspelt key is named with the config file and its line', async () => {
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(
      config,
      [
        'name: dp-test',
        'input: {path: input.jsonl}',
        'fields: [text]',
        'target_languages: [de]',
        'model: gpt-4o-mini',
        'provider: {kind: local}',
        'batch:',
        '  max_in_flght: 3',
        'output: {path: "out/{lang}.jsonl"}',
        'run_dir: run',
        '',
      ].join('\n'),
    );
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown key batch.max_in_flght');
    expect(result.stderr).toContain(`${config}:8:`);
    expect(expectNoStack(result.stderr)).toBe(true);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('a value of the wrong type names the key and its line', async () => {
    const config = writePipeline(dir, { target_languages: 'ko' });
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${escapeRegExp(config)}:\\d+: .*target_languages`));
    expect(expectNoStack(result.stderr)).toBe(true);
  });

  it('invalid YAML points at its line', async () => {
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, 'name: dp-test\nfields: [text\nmodel: x\n');
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${escapeRegExp(config)}:\\d+: invalid YAML`));
    expect(expectNoStack(result.stderr)).toBe(true);
  });

  it('a missing input file is named', async () => {
    const config = writePipeline(dir, { input: { path: 'nowhere.jsonl' } });
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(join(dir, 'nowhere.jsonl'));
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(expectNoStack(result.stderr)).toBe(true);
    expect(jsonlFilesUnder(dir).filter((path) => !path.endsWith('input.jsonl'))).toEqual([]);
  });

  it('a missing config file is named', async () => {
    const result = await runCliCapture(['prepare', join(dir, 'missing.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing.yaml');
    expect(expectNoStack(result.stderr)).toBe(true);
  });

  it('replace mode with two languages needs {lang} in output.path', async () => {
    const config = writePipeline(dir, { target_languages: ['de', 'fr'], output: { path: 'out/result.jsonl', mode: 'replace' } });
    const result = await runCliCapture(['prepare', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('output.path');
    expect(result.stderr).toContain('{lang}');
    expect(expectNoStack(result.stderr)).toBe(true);
    expect(existsSync(join(dir, 'run', 'shards'))).toBe(false);
  });

  it('the same config with {lang} prepares fine (control)', async () => {
    const config = writePipeline(dir, { target_languages: ['de', 'fr'], output: { path: 'out/result.{lang}.jsonl', mode: 'replace' } });
    const result = await runCliCapture(['prepare', config]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'run', 'shards', 'shard-00001.jsonl'))).toBe(true);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('the built binary', () => {
  it('exits 1 with the same one-line message as the in-process CLI', async () => {
    const config = writePipeline(dir, { target_languages: ['de', 'fr'], output: { path: 'out/result.jsonl' } });
    const inProcess = await runCliCapture(['prepare', config]);
    const child = await waitForExit(spawnCli(['prepare', config], { cwd: dir }));
    expect(child.code).toBe(1);
    expect(child.stderr).toBe(inProcess.stderr);
    expect(child.stdout).toBe('');
  });
});
