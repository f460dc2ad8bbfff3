#!/usr/bin/env node
/**
 * Reading alone: iterates `readRecords(path, format)` of a built dist/ over a
 * dataset file and touches the translatable fields, nothing else. Prints
 * {format, rows, chars, seconds, rowsPerSec, maxRssMB}.
 *
 *   node bench/read.mjs --in bench/.data/alpaca-1m.parquet [--format parquet] [--dist DIR]
 *   /usr/bin/time -f "%e s %M KB" node bench/read.mjs --in …   (the OS's figures)
 *
 * --format defaults to the file's extension; --dist to this checkout's dist/
 * (the scale section passes its private copy).
 */
import { extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const FIELDS = ['instruction', 'input', 'output'];
const here = fileURLToPath(new URL('.', import.meta.url));

/** Reads every record of `input`; resolves with {format, rows, chars, seconds, rowsPerSec}. */
export async function readAll({ input, format = extname(input).slice(1), dist = join(here, '..', 'dist') }) {
  const { readRecords } = await import(pathToFileURL(join(resolve(dist), 'read', 'index.js')).href);
  const started = performance.now();
  let rows = 0;
  let chars = 0;
  for await (const { record } of readRecords(input, format)) {
    rows++;
    for (const field of FIELDS) {
      const value = record[field];
      if (typeof value === 'string') chars += value.length;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { format, rows, chars, seconds: Number(seconds.toFixed(2)), rowsPerSec: Math.round(rows / seconds) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { in: { type: 'string' }, format: { type: 'string' }, dist: { type: 'string' } } });
  if (!values.in) {
    console.error('usage: read.mjs --in FILE [--format jsonl|parquet|csv|json] [--dist DIR]');
    process.exit(1);
  }
  const result = await readAll({ input: values.in, format: values.format, dist: values.dist });
  console.log(JSON.stringify({ ...result, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}
