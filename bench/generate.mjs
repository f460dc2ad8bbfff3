#!/usr/bin/env node
// Benchmark data, deterministic from a seed, no dependencies.
//
//   node bench/generate.mjs --rows 1000000 --out bench/.data/alpaca-1m.jsonl [--seed 1]
//     An Alpaca-like JSONL dataset: {"id","instruction","input","output"}, ~1 KB a
//     row (1M rows ≈ 1 GB), ~30% of rows with an empty `input`, a few % with
//     inline code or {placeholders}. Prints {rows, bytes, fields, seconds}.
//
//   node bench/generate.mjs --parquet-from DATA.jsonl --out DATA.parquet [--row-group-rows 10000]
//     The same rows as Parquet (hyparquet-writer, snappy): id INT64, instruction,
//     input, output UTF8, all nullable (as pandas/pyarrow write them), one row
//     group per N rows, written as it goes. Prints {rows, bytes, rowGroups, seconds}.
//
//   node bench/generate.mjs --results-from REQUESTS.jsonl --out RESULTS.jsonl
//     Simulated Batch API output for a requests file: one BatchRequestOutput line
//     per request, answering with a Hangul pseudo-translation (two-byte strings,
//     as real Korean output would be). Prints {requests, bytes, seconds}.
import { once } from 'node:events';
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';

const WORDS = (
  'the a an of to and in for on with by from as at about into over after before between through during ' +
  'data model system user answer question example language text word sentence paragraph story summary list ' +
  'people time year way day thing world life hand part child eye woman place work week case point company ' +
  'number group problem fact water city country school student teacher book idea plan result reason process ' +
  'function value table report price market energy health food travel history science music game team ' +
  'important simple different small large good new first last long great little own other old right high ' +
  'clear useful common possible better best main early young strong quick careful modern local natural ' +
  'is are was were be have has had do does make makes made use uses used write writes give gives explain ' +
  'describe create find take help show keep start turn move live believe bring happen provide include ' +
  'continue learn change lead understand follow stop consider grow open walk offer remember love suggest ' +
  'can will should would could may might must often also very really quite usually always never only ' +
  'however therefore because although while when where which that this these those each every many most ' +
  'some any all several both either neither such more less few'
).split(' ');
const VERBS_START = [
  'Explain',
  'Describe',
  'Write',
  'List',
  'Summarize',
  'Give',
  'Create',
  'Suggest',
  'Compare',
  'Classify',
  'Rewrite',
  'Identify',
];
const CODE_SPANS = [
  '`Array.prototype.map`',
  '`print("hello")`',
  '`SELECT * FROM users`',
  '`git rebase -i`',
  '`x = x + 1`',
  '`npm install`',
];
const PLACEHOLDERS = ['{name}', '{city}', '{count}', '{{product}}', '%s', '<b>'];

/** mulberry32: tiny, fast, good enough for benchmark text. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encode = (text) => Buffer.from(text, 'latin1');
/** JSON-escaped bytes of each piece of text, so rows are assembled without JSON.stringify. */
const WORD_BYTES = WORDS.map((w) => encode(w));
const CAP_BYTES = WORDS.map((w) => encode(w[0].toUpperCase() + w.slice(1)));
const VERB_BYTES = VERBS_START.map(encode);
const jsonBytes = (text) => encode(JSON.stringify(text).slice(1, -1));
const CODE_BYTES = CODE_SPANS.map((c) => jsonBytes(` For example, ${c} does this.`));
const PLACEHOLDER_BYTES = PLACEHOLDERS.map((p) => jsonBytes(` Use ${p} in the answer.`));
const BYTES = Object.fromEntries(
  Object.entries({
    comma: ', ',
    space: ' ',
    paragraph: '\\n\\n',
    dot: '.',
    question: '?',
    rowStart: '{"id":',
    instruction: ',"instruction":"',
    input: '","input":"',
    output: '","output":"',
    rowEnd: '"}\n',
  }).map(([k, v]) => [k, encode(v)]),
);

const FLUSH_BYTES = 4 << 20;

/**
 * Builds JSONL bytes straight into a Buffer (all generated text is ASCII):
 * about 3x faster than building strings and calling JSON.stringify per row.
 */
class ByteSink {
  constructor(stream) {
    this.stream = stream;
    this.buffer = Buffer.allocUnsafe(FLUSH_BYTES + (1 << 16));
    this.pos = 0;
    this.bytes = 0;
  }

  put(bytes) {
    const b = this.buffer;
    let p = this.pos;
    for (let i = 0; i < bytes.length; i++) b[p++] = bytes[i];
    this.pos = p;
  }

  ascii(text) {
    this.pos += this.buffer.write(text, this.pos, 'latin1');
  }

  get full() {
    return this.pos >= FLUSH_BYTES;
  }

  /** Hands the buffer to the stream (no copy) and waits for drain when asked to. */
  async flush() {
    const full = this.buffer.subarray(0, this.pos);
    this.bytes += this.pos;
    this.buffer = Buffer.allocUnsafe(FLUSH_BYTES + (1 << 16));
    this.pos = 0;
    if (!this.stream.write(full)) await once(this.stream, 'drain');
  }
}

/** Streams the dataset to `out`; resolves with {rows, bytes, fields}. */
export async function generate({ rows, out, seed = 1 }) {
  mkdirSync(dirname(out), { recursive: true });
  const random = prng(seed);
  const pick = (n) => Math.floor(random() * n);
  const int = (min, max) => min + pick(max - min + 1);
  const stream = createWriteStream(out);
  const sink = new ByteSink(stream);
  const sentence = (first) => {
    sink.put(first ?? CAP_BYTES[pick(WORDS.length)]);
    const n = int(6, 16);
    for (let i = 0; i < n; i++) {
      sink.put(i === 5 && random() < 0.3 ? BYTES.comma : BYTES.space);
      sink.put(WORD_BYTES[pick(WORDS.length)]);
    }
    sink.put(random() < 0.1 ? BYTES.question : BYTES.dot);
  };
  const sentences = (min, max, first) => {
    sentence(first);
    const n = int(min, max);
    for (let i = 1; i < n; i++) {
      sink.put(random() < 0.15 ? BYTES.paragraph : BYTES.space);
      sentence();
    }
  };
  let fields = 0;
  for (let id = 0; id < rows; id++) {
    sink.put(BYTES.rowStart);
    sink.ascii(String(id));
    sink.put(BYTES.instruction);
    sentences(1, 3, VERB_BYTES[pick(VERB_BYTES.length)]);
    if (random() < 0.03) sink.put(PLACEHOLDER_BYTES[pick(PLACEHOLDER_BYTES.length)]);
    sink.put(BYTES.input);
    const hasInput = random() >= 0.3;
    if (hasInput) sentences(1, 4);
    sink.put(BYTES.output);
    sentences(6, 14);
    if (random() < 0.04) sink.put(CODE_BYTES[pick(CODE_BYTES.length)]);
    sink.put(BYTES.rowEnd);
    fields += hasInput ? 3 : 2;
    if (sink.full) await sink.flush();
  }
  await sink.flush();
  stream.end();
  await once(stream, 'finish');
  return { rows, bytes: sink.bytes, fields };
}

/** Rows per row group of the Parquet copy: a common writer setting (pyarrow, Spark and DuckDB use 64k–1M rows, Hugging Face's converter ~100 MB groups). */
export const PARQUET_ROW_GROUP_ROWS = 10_000;

const PARQUET_SCHEMA = [
  { name: 'root', num_children: 4 },
  { name: 'id', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'instruction', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'input', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'output', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
];

/** hyparquet-writer's sink: ParquetWriter calls flush() after each row group, and the bytes go to the file. */
class SyncFileSink extends ByteWriter {
  constructor(fd) {
    super(1 << 20);
    this.fd = fd;
  }

  flush() {
    let done = 0;
    while (done < this.index) done += writeSync(this.fd, new Uint8Array(this.buffer, done, this.index - done));
    this.index = 0;
  }

  finish() {
    this.flush();
  }
}

/**
 * Converts a generated JSONL dataset to Parquet, one row group of `rowGroupRows`
 * rows at a time (memory: one group's values and its encoded bytes), into
 * `<out>.tmp` renamed over `out` at the end. Resolves with {rows, bytes, rowGroups}.
 */
export async function toParquet({ input, out, rowGroupRows = PARQUET_ROW_GROUP_ROWS }) {
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  const fd = openSync(tmp, 'w');
  let rows = 0;
  let rowGroups = 0;
  try {
    const writer = new ParquetWriter({ writer: new SyncFileSink(fd), schema: PARQUET_SCHEMA, codec: 'SNAPPY' });
    const names = ['id', 'instruction', 'input', 'output'];
    let columns = names.map(() => []);
    const writeGroup = async () => {
      if (columns[0].length === 0) return;
      const columnData = names.map((name, i) => ({ name, data: columns[i] }));
      await writer.write({ columnData, rowGroupSize: columns[0].length });
      rowGroups++;
      columns = names.map(() => []);
    };
    const lines = createInterface({ input: createReadStream(input, { highWaterMark: 1 << 20 }), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line === '') continue;
      const row = JSON.parse(line);
      columns[0].push(row.id == null ? null : BigInt(row.id));
      for (let i = 1; i < names.length; i++) columns[i].push(row[names[i]] ?? null);
      rows++;
      if (columns[0].length >= rowGroupRows) await writeGroup();
    }
    await writeGroup();
    await writer.finish();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  return { rows, bytes: statSync(out).size, rowGroups };
}

const HANGUL_BASE = 0xac00;
const hangulCache = new Map();
/** A deterministic Hangul stand-in for an English word, about half as many characters. */
function hangulWord(word) {
  let out = hangulCache.get(word);
  if (out === undefined) {
    out = '';
    for (let i = 0; i < word.length; i += 2) {
      const code = (word.charCodeAt(i) * 31 + (word.charCodeAt(i + 1) || 7) * 17) % 11172;
      out += String.fromCharCode(HANGUL_BASE + code);
    }
    hangulCache.set(word, out);
  }
  return out;
}

function pseudoKorean(text) {
  return text.replace(/[A-Za-z]+/g, hangulWord);
}

/** Simulated BatchRequestOutput lines for every request in `requests`. */
export async function generateResults({ requests, out }) {
  mkdirSync(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  const lines = createInterface({ input: createReadStream(requests), crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  let bytes = 0;
  let chunk = '';
  const created = 1_700_000_000;
  for await (const line of lines) {
    if (line === '') continue;
    const request = JSON.parse(line);
    const messages = request.body.messages;
    const text = messages[messages.length - 1].content;
    const n = String(count).padStart(9, '0');
    const output = {
      id: `batch_req_${n}`,
      custom_id: request.custom_id,
      response: {
        status_code: 200,
        request_id: `req_${n}`,
        body: {
          id: `chatcmpl-${n}`,
          object: 'chat.completion',
          created,
          model: request.body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: pseudoKorean(text) }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: Math.ceil(text.length / 4) + 12, completion_tokens: Math.ceil(text.length / 3), total_tokens: 0 },
        },
      },
      error: null,
    };
    chunk += `${JSON.stringify(output)}\n`;
    count++;
    if (chunk.length >= 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  stream.end(chunk);
  await once(stream, 'finish');
  return { requests: count, bytes };
}

async function main() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'results-from': { type: 'string' },
      'parquet-from': { type: 'string' },
      'row-group-rows': { type: 'string' },
    },
  });
  if (!values.out || (!values.rows && !values['results-from'] && !values['parquet-from'])) {
    console.error(
      'usage: generate.mjs --rows N --out FILE [--seed S] | --parquet-from DATA.jsonl --out FILE [--row-group-rows N] | --results-from REQUESTS --out FILE',
    );
    process.exit(1);
  }
  const started = performance.now();
  const result = values['results-from']
    ? await generateResults({ requests: values['results-from'], out: values.out })
    : values['parquet-from']
      ? await toParquet({
          input: values['parquet-from'],
          out: values.out,
          rowGroupRows: values['row-group-rows'] ? Number(values['row-group-rows']) : undefined,
        })
      : await generate({ rows: Number(values.rows), out: values.out, seed: Number(values.seed) });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ ...result, seconds, maxRssMB }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
