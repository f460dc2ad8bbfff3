#!/usr/bin/env node
/**
 * The benchmark runner: `npm run bench [-- --rows N] [--only scale,cost] [--keep]`
 * (npm's prebench builds dist/ first).
 *
 * Runs every section of SECTIONS in order. A section is a module in bench/
 * exporting `async function run(options) → { ok: boolean, table: string }`;
 * options are { rows, keep, root }. A section whose file is missing is skipped.
 * The exit code is non-zero only when a section reports a wrong result
 * (ok: false) or throws — never because something is slow.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Every section, in the order they run: bench/<name>.mjs. */
export const SECTIONS = ['scale', 'cost', 'sync-throughput', 'token-schedule'];

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const usage = `usage: node bench/run.mjs [--rows N] [--repeat N] [--only SECTION[,SECTION…]] [--keep]
  --rows N     dataset size for the sections that generate data (default: each section's own; scale: 200000)
  --repeat N   scale: run the plain loop, naive and transbatch prepares N times, alternating, and report the medians (default 1)
  --only LIST  run only these sections (comma-separated or repeated): ${SECTIONS.join(', ')}
  --keep       keep the work dirs (scale: shards, run dir, outputs, in $BENCH_WORK_DIR or the OS temp dir)`;

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        rows: { type: 'string' },
        repeat: { type: 'string', default: '1' },
        only: { type: 'string', multiple: true },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`${error.message}\n${usage}`);
    process.exit(1);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const rows = values.rows === undefined ? undefined : Number(values.rows.replace(/_/g, ''));
  if (rows !== undefined && (!Number.isInteger(rows) || rows <= 0)) {
    console.error(`--rows must be a positive integer, not ${values.rows}\n${usage}`);
    process.exit(1);
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat <= 0) {
    console.error(`--repeat must be a positive integer, not ${values.repeat}\n${usage}`);
    process.exit(1);
  }
  const only = values.only
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = only?.filter((name) => !SECTIONS.includes(name)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(', ')}\n${usage}`);
    process.exit(1);
  }
  return { rows, repeat, keep: values.keep, only };
}

async function main() {
  const { rows, repeat, keep, only } = options();
  const sectionOptions = { keep, root, repeat, ...(rows === undefined ? {} : { rows }) };
  const summary = [];
  for (const name of SECTIONS) {
    if (only && !only.includes(name)) continue;
    const file = join(here, `${name}.mjs`);
    console.log(`\n## ${name}\n`);
    if (!existsSync(file)) {
      console.log(`(skipped: bench/${name}.mjs does not exist yet)`);
      summary.push({ name, status: 'skipped' });
      continue;
    }
    const started = performance.now();
    let result;
    try {
      const module = await import(pathToFileURL(file).href);
      if (typeof module.run !== 'function') throw new Error(`bench/${name}.mjs exports no run(options)`);
      result = await module.run({ ...sectionOptions });
      if (!result || typeof result.ok !== 'boolean' || typeof result.table !== 'string') {
        throw new Error(`bench/${name}.mjs run() returned ${JSON.stringify(result)?.slice(0, 200)}, not {ok, table}`);
      }
    } catch (error) {
      result = { ok: false, table: `section failed: ${error?.stack ?? error}` };
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(result.table);
    summary.push({ name, status: result.ok ? 'ok' : 'WRONG', seconds });
  }
  console.log('\n## summary\n');
  for (const { name, status, seconds } of summary) {
    console.log(`- ${name}: ${status}${seconds === undefined ? '' : ` (${seconds.toFixed(1)} s)`}`);
  }
  if (summary.some((s) => s.status === 'WRONG')) process.exitCode = 1;
}

await main();
