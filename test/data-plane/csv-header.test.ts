import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCliCapture } from '../helpers/cli.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it.each(['replace', 'columns'] as const)('a CSV output whose every row was rejected still has its header (%s mode)', async (mode) => {
  dir = mkdtempSync(join(tmpdir(), 'tb-csv-header-'));
  writeFileSync(join(dir, 'in.csv'), 'id,title,note\n1,Hello there,keep\n2,Good morning,keep\n');
  writeFileSync(join(dir, 'faults.yaml'), 'requests:\n  - custom_id: "^r"\n    kind: error\n    status: 400\n');
  writeFileSync(
    join(dir, 'p.yaml'),
    [
      'name: header',
      'input: {path: in.csv}',
      'fields: [title]',
      'target_languages: [de]',
      'model: gpt-4o-mini',
      'provider: {kind: local, faults: faults.yaml}',
      'batch: {poll_interval: 50ms}',
      `output: {path: out/t.csv, mode: ${mode}}`,
      '',
    ].join('\n'),
  );
  const result = await runCliCapture(['run', join(dir, 'p.yaml')]);
  expect(result.code).toBe(2);
  expect(readFileSync(join(dir, 'out/t.csv'), 'utf8')).toBe(mode === 'replace' ? 'id,title,note\n' : 'id,title,title_de,note\n');
  expect(readFileSync(join(dir, 'out/t.rejects.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
});
