#!/usr/bin/env node
/**
 * The token-schedule section: batch scheduling under an enqueued-token limit.
 * The emulator allows L estimated input tokens in flight (`limits.enqueuedTokens`)
 * and answers each batch request after a fixed delay, so a batch of L tokens
 * takes a known time D. The job needs ≈ 5 × L input tokens with
 * `batch.max_enqueued_tokens: L`, so prepare cuts shards by tokens and the
 * batch loop keeps at most L tokens in flight. Ideal makespan = T / L × D
 * (T = the job's input tokens); the target is within 15% of it, with no batch
 * failed `token_limit_exceeded`.
 *
 * The emulator (echo engine) runs in this process, the CLI in a child
 * (`node dist/cli/main.js run`). Output must equal the input (echo engine).
 *
 *   node bench/token-schedule.mjs [--limit 10000] [--per-request-ms 120] [--root DIR] [--keep]
 *   export async function run({keep, root}) → {ok, table}
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
const log = (message) => process.stderr.write(`[token-schedule] ${message}\n`);
const TARGET = 0.15;
/** Emulator batch timings: validating and finalizing are part of each batch's D. */
const VALIDATING_MS = 20;
const FINALIZING_MS = 20;
const POLL = '100ms';

const WORDS = 'river garden engine violin harbor mountain library kitchen window planet teacher market bridge lantern meadow'.split(' ');

/** Distinct rows of ~60 words (≈ 100 tokens per request with the prompt). */
function dataset(rows) {
  let text = '';
  for (let index = 0; index < rows; index++) {
    const words = [];
    for (let w = 0; w < 55; w++) words.push(WORDS[(index * 7 + w * 3) % WORDS.length]);
    text += `${JSON.stringify({ id: index + 1, text: `Item ${index}: ${words.join(' ')}.` })}\n`;
  }
  return text;
}

function stateOf(runDir) {
  const db = new Database(join(runDir, 'state.sqlite'), { readonly: true });
  try {
    return {
      events: db.prepare('SELECT at, type, data FROM events ORDER BY id').all(),
      shards: db.prepare('SELECT number, lines, input_tokens FROM shards ORDER BY number').all(),
      inputTokens: db.prepare('SELECT COALESCE(SUM(input_tokens), 0) AS t, COUNT(*) AS n FROM requests').get(),
    };
  } finally {
    db.close();
  }
}

export async function run(options = {}) {
  const root = resolve(options.root ?? join(here, '..'));
  const cli = join(root, 'dist', 'cli', 'main.js');
  const limit = options.limit ?? 10_000;
  const perRequestMs = options.perRequestMs ?? 120;
  const { startEmulator } = await import(pathToFileURL(join(root, 'dist', 'emulator', 'index.js')).href);
  const work = mkdtempSync(join(tmpdir(), 'tb-bench-tokens-'));
  const key = `sk-bench-${randomBytes(12).toString('hex')}`;
  const emulator = await startEmulator({
    dataDir: join(work, 'emulator'),
    apiKey: key,
    engine: 'echo',
    timing: { perRequestMs, validatingMs: VALIDATING_MS, finalizingMs: FINALIZING_MS },
    limits: { enqueuedTokens: limit },
  });
  try {
    const config = join(work, 'pipeline.yaml');
    const writeConfig = (rows) => {
      writeFileSync(join(work, 'data.jsonl'), dataset(rows));
      writeFileSync(
        config,
        [
          'name: token-schedule',
          'input: {path: data.jsonl, id: id}',
          'fields: [text]',
          'target_languages: [ko]',
          'model: gpt-4o-mini',
          `provider: {kind: openai, base_url: "${emulator.url}"}`,
          `batch: {max_enqueued_tokens: ${limit}, max_in_flight: 10, poll_interval: ${POLL}}`,
          'checks: [nonempty, not_truncated, placeholders]',
          'cache: {enabled: false}',
          'output: {path: "out/tokens.{lang}.jsonl"}',
          'run_dir: run',
          '',
        ].join('\n'),
      );
    };
    const env = cliEnv(cli, { OPENAI_API_KEY: key, OPENAI_BASE_URL: '', TRANSBATCH_CACHE_DIR: join(work, 'cache'), NO_COLOR: '1' });

    // Size the job to ≈ 5 × L tokens from transbatch's own estimate of a probe.
    const probeRows = 100;
    writeConfig(probeRows);
    const probe = await measure([...cliCommand(cli), 'estimate', config, '--json'], { env });
    if (probe.exitCode !== 0) return { ok: false, table: `transbatch estimate exited ${probe.exitCode}:\n${probe.stderr}` };
    const perRow = JSON.parse(probe.stdout).inputTokens / probeRows;
    const rows = Math.round((5 * limit) / perRow);
    writeConfig(rows);
    rmSync(join(work, 'run'), { recursive: true, force: true });

    log(`L = ${limit} tokens, ${rows} rows (~${Math.round(perRow)} tokens each), ${perRequestMs} ms per request`);
    const load = loadavg()[0];
    const result = await measure([...cliCommand(cli), 'run', config, '--quiet'], { env });
    if (result.exitCode !== 0) return { ok: false, table: `transbatch run exited ${result.exitCode}:\n${result.stderr}` };

    const input = readFileSync(join(work, 'data.jsonl'), 'utf8');
    const same = readFileSync(join(work, 'out', 'tokens.ko.jsonl'), 'utf8') === input;
    const state = stateOf(join(work, 'run'));
    const total = state.inputTokens.t;
    const requests = state.inputTokens.n;

    // Failures: the emulator's batch errors and the run's own record of them.
    const statuses = emulator.events.filter((e) => e.type === 'batch.status');
    const failed = statuses.filter((e) => e.status === 'failed').length;
    const tokenLimitEvents = state.events.filter((e) => e.type === 'batch.token_limit' || e.type === 'batch.failed').length;
    const created = emulator.events.filter((e) => e.type === 'batch.created');

    // Makespan: first batch created → last batch completed, from the run's event log.
    const at = (event) => Date.parse(event.at);
    const createdEvents = state.events.filter((e) => e.type === 'batch.created');
    const collectedEvents = state.events.filter((e) => e.type === 'batch.collected');
    const firstCreated = Math.min(...createdEvents.map(at));
    const lastCollected = Math.max(...collectedEvents.map(at));
    const makespan = (lastCollected - firstCreated) / 1000;
    const tokensPerRequest = total / requests;
    const batchSeconds = ((limit / tokensPerRequest) * perRequestMs + VALIDATING_MS + FINALIZING_MS) / 1000;
    const ideal = (total / limit) * batchSeconds;
    const over = makespan / ideal - 1;
    const n = (value, digits = 1) => value.toFixed(digits);
    const shardTokens = state.shards.map((s) => s.input_tokens);
    const lines = [
      '| L (tokens) | job tokens | T / L | shards | D (s) | ideal (s) | makespan (s) | vs ideal | token_limit failures | target |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- |',
      `| ${limit} | ${total} | ${n(total / limit, 2)} | ${state.shards.length} | ${n(batchSeconds, 2)} | ${n(ideal, 2)} | ${n(makespan, 2)} | ${over >= 0 ? '+' : ''}${n(over * 100)}% | ${failed} | within ${TARGET * 100}%: ${over <= TARGET ? 'met' : 'MISSED'} |`,
      '',
      `${requests} requests of ~${n(tokensPerRequest, 0)} input tokens; D = (L / tokens per request) × ${perRequestMs} ms + validating ${VALIDATING_MS} ms + finalizing ${FINALIZING_MS} ms; ` +
        `makespan = first batch.created → last batch.collected in the run's event log (poll ${POLL}). ` +
        `Shard tokens: ${shardTokens.join(', ')}; ${created.length} batches created, ${failed} failed, ${tokenLimitEvents} token-limit/failed events in the run's log. ` +
        `Whole command ${n(result.seconds, 2)} s, CPU ${n(result.cpuSeconds ?? Number.NaN, 2)} s; ${cpus().length} CPUs, load average ${n(load, 2)} at the start. ` +
        `Output ${same ? 'equals' : 'DIFFERS FROM'} the input (echo engine).`,
    ];
    return { ok: same && failed === 0 && tokenLimitEvents === 0, table: lines.join('\n') };
  } finally {
    await emulator.close();
    if (options.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string', default: '10000' },
      'per-request-ms': { type: 'string', default: '120' },
      root: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const result = await run({
    limit: Number(values.limit),
    perRequestMs: Number(values['per-request-ms']),
    keep: values.keep,
    ...(values.root ? { root: values.root } : {}),
  });
  console.log(result.table);
  if (!result.ok) process.exitCode = 1;
}
