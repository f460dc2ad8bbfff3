/**
 * init: every sample dataset becomes a config that loads, names the right
 * fields, and runs to the end on the emulator as written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../../src/config/load.js';
import { chooseFields, chooseIdField, judgeField } from '../../src/init/choose.js';
import { type FieldStats, profileRecord } from '../../src/init/inspect.js';
import { yamlScalar } from '../../src/init/render.js';
import { readRecords } from '../../src/read/index.js';
import { REPO_ROOT, runCliCapture } from '../helpers/cli.js';

let dir: string;
let cache: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tb-init-'));
  cache = join(dir, 'cache');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DATASETS = [
  { file: 'data-samples/alpaca-mini.jsonl', fields: ['instruction', 'input', 'output'], id: 'id' },
  { file: 'data-samples/chat-mini.jsonl', fields: ['messages[*].content'], id: 'id' },
  { file: 'data-samples/support-tickets.csv', fields: ['subject', 'body', 'agent_note'], id: 'ticket_id' },
  { file: 'test/fixtures/parquet/chat-mini.parquet', fields: ['messages[*].content'], id: 'id' },
];

async function countRows(path: string, format: 'csv' | 'jsonl' | 'json' | 'parquet'): Promise<number> {
  let rows = 0;
  for await (const _ of readRecords(path, format)) rows++;
  return rows;
}

describe.concurrent('init on the sample datasets', () => {
  for (const [index, dataset] of DATASETS.entries()) {
    it(`${dataset.file}: a config that loads and runs on the emulator`, async () => {
      const project = join(dir, `project-${index}`);
      const configPath = join(project, 'pipeline.yaml');
      const init = await runCliCapture(['init', join(REPO_ROOT, dataset.file), '-o', configPath], { TRANSBATCH_CACHE_DIR: cache });
      expect(init.stderr).not.toContain('error');
      expect(init.code).toBe(0);
      expect(init.stdout.trim()).toBe(configPath);
      expect(init.stderr).toMatch(/non-empty\s+mean/);

      const yaml = readFileSync(configPath, 'utf8');
      expect(yaml.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schema\/pipeline\.schema\.json$/);
      const schemaRef = yaml.split('\n')[0]!.replace('# yaml-language-server: $schema=', '');
      expect(existsSync(join(project, schemaRef))).toBe(true);
      // Every key line carries a comment.
      for (const line of yaml.split('\n').filter((text) => /^\s*[a-z_]+:/.test(text))) expect(line).toContain(' # ');

      const config = loadPipelineConfig(configPath, { env: { TRANSBATCH_CACHE_DIR: cache } });
      expect(config.fields).toEqual(dataset.fields);
      expect(config.input.id).toBe(dataset.id);
      expect(config.target_languages).toEqual(['ko']);
      expect(config.provider.kind).toBe('local');
      expect(config.batch.poll_interval).toBe(200);
      expect(config.outputs[0]!.path.startsWith(project)).toBe(true);
      expect(config.runDir.startsWith(project)).toBe(true);

      const run = await runCliCapture(['run', configPath, '-q'], { TRANSBATCH_CACHE_DIR: cache });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const output = config.outputs[0]!;
      const outPath = output.path.replace('{lang}', 'ko');
      expect(existsSync(outPath)).toBe(true);
      expect(await countRows(outPath, output.format)).toBe(await countRows(config.input.path, config.input.format));
    });
  }
});

describe('init options', () => {
  it('refuses to overwrite a config unless --force; takes --name and --target', async () => {
    const configPath = join(dir, 'existing.yaml');
    writeFileSync(configPath, '# mine\n');
    const dataset = join(REPO_ROOT, 'data-samples/alpaca-mini.jsonl');
    const refused = await runCliCapture(['init', dataset, '-o', configPath], { TRANSBATCH_CACHE_DIR: cache });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists; pass --force/);
    expect(readFileSync(configPath, 'utf8')).toBe('# mine\n');

    const forced = await runCliCapture(
      ['init', dataset, '-o', configPath, '--force', '--name', 'my-set', '--target', 'de,fr', '--target', 'ja'],
      {
        TRANSBATCH_CACHE_DIR: cache,
      },
    );
    expect(forced.code).toBe(0);
    const config = loadPipelineConfig(configPath);
    expect(config.name).toBe('my-set');
    expect(config.target_languages).toEqual(['de', 'fr', 'ja']);
    expect(config.outputs[0]!.path).toBe(join(dir, 'out', 'my-set.{lang}.jsonl'));
  });

  it('writes pipelines/<name>.yaml by default, with out/ and runs/ beside pipelines/', async () => {
    const project = join(dir, 'default-project');
    const dataset = join(project, 'data', 'faq.json');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(project, 'data'), { recursive: true });
    writeFileSync(
      dataset,
      JSON.stringify([
        { meta: { title: 'How to reset a password', lang: 'en' }, body: 'Open the settings and choose "Reset password".' },
        { meta: { title: 'Billing questions', lang: 'en' }, body: 'Invoices are sent on the first day of each month.' },
      ]),
    );
    const { initPipeline } = await import('../../src/init/init.js');
    const result = await initPipeline(dataset, { cwd: project });
    expect(result.configPath).toBe(join(project, 'pipelines', 'faq-ko.yaml'));
    expect(result.fields).toEqual(['meta.title', 'body']);
    const config = loadPipelineConfig(result.configPath);
    expect(config.input).toEqual({ path: dataset, format: 'json' });
    expect(config.outputs[0]!.path).toBe(join(project, 'out', 'faq-ko.{lang}.json'));
    expect(config.runDir).toBe(join(project, 'runs', 'faq-ko'));
  });

  it('fails with one message on a missing dataset or an unknown extension', async () => {
    const missing = await runCliCapture(['init', join(dir, 'nope.jsonl'), '-o', join(dir, 'x.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
    const odd = join(dir, 'data.txt');
    writeFileSync(odd, 'hello\n');
    const unknown = await runCliCapture(['init', odd, '-o', join(dir, 'y.yaml')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/cannot tell the format/);
  });
});

function profile(records: unknown[]): FieldStats[] {
  const fields = new Map<string, FieldStats>();
  for (const record of records) profileRecord(record, fields);
  return [...fields.values()];
}

describe('field choice (pure)', () => {
  const records = Array.from({ length: 12 }, (_, index) => ({
    id: `row-${index}`,
    url: `https://example.com/${index}`,
    score: index * 1.5,
    lang: 'en',
    created: `2024-01-${String(index + 1).padStart(2, '0')}`,
    sku: `AB-${1000 + index}`,
    meta: { title: `A title about topic ${index}`, category: ['news', 'sport', 'tech'][index % 3] },
    conversations: [
      { from: index % 2 ? 'human' : 'gpt', value: `Message number ${index}, with words in it.` },
      { from: 'gpt', value: `Reply ${index}: sure, here it is.` },
    ],
    tags: ['a', 'b'],
    empty: '',
    note: index % 4 === 0 ? 'Call back tomorrow please' : '',
  }));
  const fields = profile(records);
  const verdict = (path: string) => {
    const stats = fields.find((field) => field.path === path);
    if (!stats) throw new Error(`no stats for ${path}`);
    return judgeField(stats);
  };

  it('finds nested paths with their share of non-empty strings and mean length', () => {
    const title = fields.find((field) => field.path === 'meta.title')!;
    expect(title.nonEmpty).toBe(12);
    expect(fields.find((field) => field.path === 'conversations[*].value')!.values).toBe(24);
    const note = fields.find((field) => field.path === 'note')!;
    expect(note.nonEmpty / note.values).toBeCloseTo(0.25);
  });

  it('translates text and leaves ids, urls, numbers, enums and empty fields out', () => {
    expect(chooseFields(fields).chosen).toEqual(['meta.title', 'conversations[*].value', 'note']);
    expect(verdict('id').why).toBe('id or metadata key');
    expect(verdict('url').translate).toBe(false);
    expect(verdict('score').why).toBe('not text');
    expect(verdict('sku').why).toBe('ids, numbers or dates');
    expect(verdict('meta.category').why).toMatch(/few distinct values/);
    expect(verdict('conversations[*].from').why).toMatch(/few distinct values/);
    expect(verdict('tags[*]').translate).toBe(false);
    expect(verdict('empty').why).toBe('always empty');
  });

  it('picks a unique top-level id column', () => {
    expect(chooseIdField(fields, records.length)).toBe('id');
    expect(chooseIdField(profile([{ ticket_id: 'T1' }, { ticket_id: 'T1' }]), 2)).toBeUndefined();
    expect(chooseIdField(profile([{ ticket_id: 'T1' }, { ticket_id: 'T2' }]), 2)).toBe('ticket_id');
  });

  it('falls back to the longest string field when nothing looks like text', () => {
    expect(chooseFields(profile([{ code: 'x1' }, { code: 'y22' }])).chosen).toEqual(['code']);
  });

  it('quotes YAML scalars only when needed', () => {
    expect(yamlScalar('instruction')).toBe('instruction');
    expect(yamlScalar('messages[*].content')).toBe('"messages[*].content"');
    expect(yamlScalar('out/x.{lang}.jsonl')).toBe('"out/x.{lang}.jsonl"');
    expect(yamlScalar('yes')).toBe('"yes"');
    expect(yamlScalar('1e3')).toBe('"1e3"');
  });
});
