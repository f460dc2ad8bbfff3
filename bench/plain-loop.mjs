#!/usr/bin/env node
// The floor the issue calibrates against: a plain Node loop that reads the
// lines, JSON.parses them, JSON.stringifies them and writes them back. No
// request building at all; it tells how fast this machine is compared with
// the one issue #7's reference figures come from (~13.5 s for 1M rows there).
//
//   node bench/plain-loop.mjs --in DATA.jsonl --out COPY.jsonl
//
// Prints {rows, seconds, maxRssMB}.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export async function plainLoop({ input, out }) {
  const stream = createWriteStream(out);
  let rows = 0;
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() === '') continue;
    if (!stream.write(`${JSON.stringify(JSON.parse(line))}\n`)) await once(stream, 'drain');
    rows++;
  }
  stream.end();
  await once(stream, 'finish');
  return { rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { in: { type: 'string' }, out: { type: 'string' } } });
  if (!values.in || !values.out) {
    console.error('usage: plain-loop.mjs --in DATA.jsonl --out COPY.jsonl');
    process.exit(1);
  }
  const started = performance.now();
  const result = await plainLoop({ input: values.in, out: values.out });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  console.log(JSON.stringify({ ...result, seconds, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}
