#!/usr/bin/env node
// The naive baseline for `prepare`, as people write it by hand: read the rows
// with readline, and for each non-empty instruction/input/output write one
// OpenAI Batch request line. No chunking, no protection, no dedupe, no sharding.
//
//   node bench/naive-prepare.mjs --in DATA.jsonl --out REQUESTS.jsonl [--lang ko] [--model gpt-4o-mini] [--body BODY.json]
//
// Without --body the request has a one-line system prompt ("Translate into
// Korean."). With --body, the request body is that JSON object — model, the
// messages before the user's, further parameters — with the user message
// appended to its messages: the scale bench passes transbatch's own body for
// the config, so both scripts write the same request bodies.
//
// Prints {rows, requests, seconds, maxRssMB}.
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const FIELDS = ['instruction', 'input', 'output'];

/** The body without its user message: transbatch's (from --body), or a one-line system prompt. */
function bodyTemplate({ lang, model, body }) {
  if (body) return body;
  const language = new Intl.DisplayNames(['en'], { type: 'language' }).of(lang) ?? lang;
  return { model, messages: [{ role: 'system', content: `Translate into ${language}.` }] };
}

export async function naivePrepare({ input, out, lang = 'ko', model = 'gpt-4o-mini', body }) {
  const template = bodyTemplate({ lang, model, body });
  mkdirSync(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  const lines = createInterface({ input: createReadStream(input), crlfDelay: Number.POSITIVE_INFINITY });
  let rows = 0;
  let requests = 0;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line);
    for (const field of FIELDS) {
      const text = row[field];
      if (typeof text !== 'string' || text === '') continue;
      const request = {
        custom_id: `${rows}-${field}-${lang}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { ...template, messages: [...template.messages, { role: 'user', content: text }] },
      };
      if (!stream.write(`${JSON.stringify(request)}\n`)) await once(stream, 'drain');
      requests++;
    }
    rows++;
  }
  stream.end();
  await once(stream, 'finish');
  return { rows, requests };
}

async function main() {
  const { values } = parseArgs({
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      lang: { type: 'string', default: 'ko' },
      model: { type: 'string', default: 'gpt-4o-mini' },
      body: { type: 'string' },
    },
  });
  if (!values.in || !values.out) {
    console.error('usage: naive-prepare.mjs --in DATA.jsonl --out REQUESTS.jsonl [--lang ko] [--model gpt-4o-mini] [--body BODY.json]');
    process.exit(1);
  }
  const body = values.body ? JSON.parse(readFileSync(values.body, 'utf8')) : undefined;
  const started = performance.now();
  const result = await naivePrepare({ input: values.in, out: values.out, lang: values.lang, model: values.model, body });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ ...result, seconds, maxRssMB }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
