#!/usr/bin/env node
/**
 * The cost table of issue "Translations a dataset can trust, at the lowest
 * cost": the same datasets and model price under each saving, from
 * `transbatch estimate --json` (token counts of the real request bodies):
 *   naive  — one synchronous request per cell, no dedupe, no packing (= 100%)
 *   batch  — the Batch API's half price
 *   + dedupe, + packing, and a second run (everything answered by the cache).
 * Usage: node bench/cost.mjs  (after npm run build). Prints a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'tb-cost-'));
const env = { ...process.env, TRANSBATCH_CACHE_DIR: join(work, 'cache') };

const datasets = [
  { file: 'alpaca-mini.jsonl', fields: '[instruction, input, output]' },
  { file: 'chat-mini.jsonl', fields: '["messages[*].content"]' },
  { file: 'support-tickets.csv', fields: '[subject, body, agent_note]' },
];

function config(name, dataset, { dedupe, pack }) {
  const path = join(work, `${name}.yaml`);
  writeFileSync(
    path,
    `name: ${name}
input: {path: ${JSON.stringify(join(root, 'data-samples', dataset.file))}}
fields: ${dataset.fields}
source_language: en
target_languages: [ko, ja]
model: gpt-4o-mini
split: {dedupe: ${dedupe}, pack: ${pack}}
provider: {kind: local}
batch: {poll_interval: 50ms}
output: {path: "out/${name}.{lang}.jsonl"}
`,
  );
  return path;
}

function cli_(args) {
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 2) throw new Error(`transbatch ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

const estimate = (path) => JSON.parse(cli_(['estimate', path, '--json']));

const rows = { naive: 0, batch: 0, dedupe: 0, packing: 0, second: 0 };
const requests = { naive: 0, batch: 0, dedupe: 0, packing: 0, second: 0 };
for (const [index, dataset] of datasets.entries()) {
  const plain = estimate(config(`plain${index}`, dataset, { dedupe: false, pack: 'none' }));
  const deduped = estimate(config(`dedupe${index}`, dataset, { dedupe: true, pack: 'none' }));
  const packedPath = config(`packed${index}`, dataset, { dedupe: true, pack: 'row' });
  const packed = estimate(packedPath);
  cli_(['run', packedPath, '--quiet']);
  const second = estimate(config(`second${index}`, dataset, { dedupe: true, pack: 'row' }));
  rows.naive += plain.syncUsd;
  rows.batch += plain.batchUsd;
  rows.dedupe += deduped.batchUsd;
  rows.packing += packed.batchUsd;
  rows.second += second.batchUsd;
  requests.naive += plain.billableRequests;
  requests.batch += plain.billableRequests;
  requests.dedupe += deduped.billableRequests;
  requests.packing += packed.billableRequests;
  requests.second += second.billableRequests;
}
rmSync(work, { recursive: true, force: true });

const label = {
  naive: 'naive: sync, one request per cell',
  batch: 'batch',
  dedupe: 'batch + dedupe',
  packing: 'batch + dedupe + packing',
  second: 'second run (response cache)',
};
console.log('| strategy | requests | est. cost (USD) | vs naive |');
console.log('| --- | ---: | ---: | ---: |');
for (const key of Object.keys(rows)) {
  console.log(`| ${label[key]} | ${requests[key]} | ${rows[key].toFixed(5)} | ${((100 * rows[key]) / rows.naive).toFixed(1)}% |`);
}
