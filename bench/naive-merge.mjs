#!/usr/bin/env node
// The naive baseline for `merge`: load ALL batch results into a Map keyed by
// custom_id, then stream the input and write each row with its fields replaced.
// Memory grows with the number of results: this is what transbatch avoids.
//
//   node bench/naive-merge.mjs --in DATA.jsonl --results RESULTS.jsonl --out OUT.jsonl [--lang ko]
//
// Prints {rows, results, missing, seconds, maxRssMB}.
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const FIELDS = ['instruction', 'input', 'output'];

const readLines = (path) => createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });

export async function naiveMerge({ input, results, out, lang = 'ko' }) {
  const translations = new Map();
  for await (const line of readLines(results)) {
    if (line.trim() === '') continue;
    const result = JSON.parse(line);
    const content = result.response?.body?.choices?.[0]?.message?.content;
    if (typeof content === 'string') translations.set(result.custom_id, content);
  }

  mkdirSync(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  let rows = 0;
  let missing = 0;
  for await (const line of readLines(input)) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line);
    for (const field of FIELDS) {
      const text = row[field];
      if (typeof text !== 'string' || text === '') continue;
      const translated = translations.get(`${rows}-${field}-${lang}`);
      if (translated === undefined) missing++;
      else row[field] = translated;
    }
    if (!stream.write(`${JSON.stringify(row)}\n`)) await once(stream, 'drain');
    rows++;
  }
  stream.end();
  await once(stream, 'finish');
  return { rows, results: translations.size, missing };
}

async function main() {
  const { values } = parseArgs({
    options: {
      in: { type: 'string' },
      results: { type: 'string' },
      out: { type: 'string' },
      lang: { type: 'string', default: 'ko' },
    },
  });
  if (!values.in || !values.results || !values.out) {
    console.error('usage: naive-merge.mjs --in DATA.jsonl --results RESULTS.jsonl --out OUT.jsonl [--lang ko]');
    process.exit(1);
  }
  const started = performance.now();
  const result = await naiveMerge({ input: values.in, results: values.results, out: values.out, lang: values.lang });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ ...result, seconds, maxRssMB }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
