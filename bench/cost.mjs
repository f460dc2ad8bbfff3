#!/usr/bin/env node
/**
 * The cost table of issue "Translations a dataset can trust, at the lowest
 * cost": the same datasets and model price under each saving, from
 * `transbatch estimate --json` (token counts of the real request bodies):
 *   naive  — one synchronous request per cell, no dedupe, no packing (= 100%)
 *   batch  — the Batch API's half price
 *   + dedupe, + packing, and a second run (everything answered by the cache).
 * Usage: node bench/cost.mjs  (after npm run build). Prints a Markdown table.
 * As a bench section (bench/run.mjs): `export async function run() → {ok, table}`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliCommand, cliEnv } from './measure.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'main.js');
let work;
let env;

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
  const [node, ...argv] = cliCommand(cli);
  const result = spawnSync(node, [...argv, ...args], { env: cliEnv(cli, env), encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 2) throw new Error(`transbatch ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

const estimate = (path) => JSON.parse(cli_(['estimate', path, '--json']));

/** The cost table as Markdown; `ok` is false when the savings are not in the expected order. */
export async function run() {
  work = mkdtempSync(join(tmpdir(), 'tb-cost-'));
  env = { ...process.env, TRANSBATCH_CACHE_DIR: join(work, 'cache') };
  try {
    return table();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function table() {
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

  const label = {
    naive: 'naive: sync, one request per cell',
    batch: 'batch',
    dedupe: 'batch + dedupe',
    packing: 'batch + dedupe + packing',
    second: 'second run (response cache)',
  };
  const lines = ['| strategy | requests | est. cost (USD) | vs naive |', '| --- | ---: | ---: | ---: |'];
  for (const key of Object.keys(rows)) {
    lines.push(`| ${label[key]} | ${requests[key]} | ${rows[key].toFixed(5)} | ${((100 * rows[key]) / rows.naive).toFixed(1)}% |`);
  }
  // Each saving must not cost more than the step before it; the batch is half the sync price.
  const order = ['naive', 'batch', 'dedupe', 'packing'];
  const problems = [];
  for (let i = 1; i < order.length; i++) {
    if (!(rows[order[i]] <= rows[order[i - 1]] + 1e-12)) problems.push(`${label[order[i]]} costs more than ${label[order[i - 1]]}`);
  }
  if (!(rows.second <= rows.packing + 1e-12)) problems.push('the second run costs more than the first');
  if (!(rows.naive > 0)) problems.push('the naive cost is not positive');
  return { ok: problems.length === 0, table: [...lines, ...problems.map((p) => `WRONG: ${p}`)].join('\n') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run();
  console.log(result.table);
  process.exitCode = result.ok ? 0 : 1;
}
