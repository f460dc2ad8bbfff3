#!/usr/bin/env node
/**
 * The sync-throughput section: `mode: sync` against the emulator with a fixed
 * latency per chat call, how close transbatch gets to the ideal
 * concurrency / latency (32 / 0.2 s = 160 requests/s). The issue's target is
 * ≥ 90% of ideal.
 *
 * The emulator (echo engine, `timing.syncMs`) runs in this process; the CLI
 * is a child process (`node dist/cli/main.js run`), so the two do not share
 * an event loop. Sending time is taken from the run's event log
 * (`sync.started` → `sync.finished`); prepare and merge are reported apart.
 * The echo engine answers with the text sent, so the output must equal the
 * input record for record: anything else is a wrong result (ok: false).
 *
 *   node bench/sync-throughput.mjs [--requests 2000] [--concurrency 32] [--latency-ms 200] [--root DIR] [--keep]
 *   export async function run({rows, keep}) → {ok, table}   (rows: requests, 2 per row)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { cliCommand, cliEnv, measure } from './measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const log = (message) => process.stderr.write(`[sync-throughput] ${message}\n`);

const TARGET = 0.9;

function dataset(rows) {
  const subjects = ['fox', 'river', 'teacher', 'garden', 'engine', 'violin', 'harbor', 'mountain', 'library', 'kitchen'];
  let text = '';
  for (let index = 0; index < rows; index++) {
    const subject = subjects[index % subjects.length];
    text += `${JSON.stringify({
      id: index + 1,
      title: `The ${subject} number ${index} waits by the road.`,
      body: `Please describe the ${subject} in detail, item ${index}; keep {name} as it is.`,
    })}\n`;
  }
  return text;
}

/** The run's event log: the first `type` event's time (ms since the epoch) and data. */
function eventsOf(runDir) {
  const db = new Database(join(runDir, 'state.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT at, type, data FROM events ORDER BY id').all();
  } finally {
    db.close();
  }
}

export async function run(options = {}) {
  // --root: a checkout (or a private copy of one) whose dist/ is measured; default this one.
  const root = resolve(options.root ?? join(here, '..'));
  const cli = join(root, 'dist', 'cli', 'main.js');
  // Two requests per row (title, body); --rows of the runner counts rows, capped so the section stays short.
  const rows = Math.ceil((options.requests ?? (options.rows ? Math.min(options.rows, 10_000) * 2 : 2000)) / 2);
  const requests = rows * 2;
  const concurrency = options.concurrency ?? 32;
  const latencyMs = options.latencyMs ?? 200;
  const { startEmulator } = await import(pathToFileURL(join(root, 'dist', 'emulator', 'index.js')).href);
  const work = mkdtempSync(join(tmpdir(), 'tb-bench-sync-'));
  const key = `sk-bench-${randomBytes(12).toString('hex')}`;
  const emulator = await startEmulator({ dataDir: join(work, 'emulator'), apiKey: key, engine: 'echo', timing: { syncMs: latencyMs } });
  try {
    const input = dataset(rows);
    writeFileSync(join(work, 'data.jsonl'), input);
    const config = join(work, 'pipeline.yaml');
    writeFileSync(
      config,
      [
        'name: sync-throughput',
        'input: {path: data.jsonl, id: id}',
        'fields: [title, body]',
        'target_languages: [ko]',
        'model: gpt-4o-mini',
        `provider: {kind: openai, base_url: "${emulator.url}"}`,
        'mode: sync',
        `sync: {concurrency: ${concurrency}}`,
        'checks: [nonempty, not_truncated, placeholders]',
        'cache: {enabled: false}',
        'output: {path: "out/sync.{lang}.jsonl"}',
        'run_dir: run',
        '',
      ].join('\n'),
    );
    const env = cliEnv(cli, { OPENAI_API_KEY: key, OPENAI_BASE_URL: '', TRANSBATCH_CACHE_DIR: join(work, 'cache'), NO_COLOR: '1' });
    log(`${requests} requests, concurrency ${concurrency}, ${latencyMs} ms per call`);
    const load = loadavg()[0];
    const emulatorCpu = process.cpuUsage();
    const result = await measure([...cliCommand(cli), 'run', config, '--quiet'], { env });
    const emulatorCpuSeconds = (() => {
      const used = process.cpuUsage(emulatorCpu);
      return (used.user + used.system) / 1e6;
    })();
    const wallSeconds = result.seconds;
    if (result.exitCode !== 0) return { ok: false, table: `transbatch run exited ${result.exitCode}:\n${result.stderr}` };

    // Correct output: the echo engine sends every text back, so output = input.
    const output = readFileSync(join(work, 'out', 'sync.ko.jsonl'), 'utf8');
    const same = output === input;
    const calls = emulator.events.filter((e) => e.type === 'http' && e.path === '/v1/chat/completions' && e.method === 'POST');
    const ok200 = calls.filter((e) => e.status === 200).length;

    const events = eventsOf(join(work, 'run'));
    const at = (type) => {
      const event = events.find((e) => e.type === type);
      return event ? Date.parse(event.at) : Number.NaN;
    };
    const sendSeconds = (at('sync.finished') - at('sync.started')) / 1000;
    const prepareSeconds = (at('prepare.finished') - at('prepare.started')) / 1000;
    const mergeSeconds = (at('merge.finished') - at('merge.started')) / 1000;
    // The emulator's own view: first call arrival to last answer.
    const firstCall = Math.min(...calls.map((e) => e.start));
    const lastAnswer = Math.max(...calls.map((e) => e.end));
    const serverSeconds = (lastAnswer - firstCall) / 1000;
    // Concurrency actually reached: mean calls open at once over the sending time.
    const busy = calls.reduce((sum, e) => sum + (e.end - e.start), 0) / 1000;
    const meanInFlight = busy / serverSeconds;
    const meanCallMs = (busy / calls.length) * 1000;
    // Client turnaround: a slot frees when an answer ends; the k-th call (k ≥ concurrency) can start once the
    // (k − concurrency)-th answer ended. The gap is what the client spends between an answer and the next call.
    const starts = calls.map((e) => e.start).sort((a, b) => a - b);
    const ends = calls.map((e) => e.end).sort((a, b) => a - b);
    const gaps = starts
      .slice(concurrency)
      .map((start, index) => start - (ends[index] ?? start))
      .sort((a, b) => a - b);
    const gapAt = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? Number.NaN;

    const ideal = concurrency / (latencyMs / 1000);
    const throughput = requests / sendSeconds;
    const share = throughput / ideal;
    const n = (value, digits = 1) => value.toFixed(digits);
    const lines = [
      `| requests | concurrency | latency | ideal req/s | sending s | req/s | % of ideal | target |`,
      `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- |`,
      `| ${requests} | ${concurrency} | ${latencyMs} ms | ${n(ideal, 0)} | ${n(sendSeconds, 2)} | ${n(throughput)} | ${n(share * 100)}% | ≥ ${TARGET * 100}%: ${share >= TARGET ? 'met' : 'MISSED'} |`,
      '',
      `sending = sync.started → sync.finished in the run's event log; emulator view (first call → last answer): ${n(serverSeconds, 2)} s, ` +
        `${n(requests / serverSeconds)} req/s; mean calls in flight ${n(meanInFlight)} of ${concurrency}, mean call ${n(meanCallMs, 0)} ms ` +
        `(latency ${latencyMs} ms); client turnaround (answer end → next call start) median ${n(gapAt(0.5), 0)} ms, p90 ${n(gapAt(0.9), 0)} ms. Whole command ${n(wallSeconds, 2)} s (prepare ${n(prepareSeconds, 2)} s, merge ${n(mergeSeconds, 2)} s, ` +
        `process start and the rest ${n(wallSeconds - sendSeconds - prepareSeconds - mergeSeconds, 2)} s). ` +
        `${ok200}/${calls.length} calls answered 200; output ${same ? 'equals' : 'DIFFERS FROM'} the input (echo engine). ` +
        `CPU: transbatch ${n(result.cpuSeconds ?? Number.NaN, 2)} s (whole command), the emulator (this process) ${n(emulatorCpuSeconds, 2)} s; ` +
        `${cpus().length} CPUs, load average ${n(load, 2)} at the start.`,
    ];
    return { ok: same && ok200 >= requests, table: lines.join('\n') };
  } finally {
    await emulator.close();
    if (options.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '32' },
      'latency-ms': { type: 'string', default: '200' },
      root: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const result = await run({
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    latencyMs: Number(values['latency-ms']),
    keep: values.keep,
    ...(values.root ? { root: values.root } : {}),
  });
  console.log(result.table);
  if (!result.ok) process.exitCode = 1;
}
