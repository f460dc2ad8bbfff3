/**
 * Every sample in README.md runs: each line of each ```sh block (in document
 * order, in a temp copy of pipelines/, data-samples/ and schema/), each
 * ```yaml block that names its file (`# pipelines/x.yaml` on its first line)
 * is written there first, and the ```js block runs against a `serve`d
 * emulator. Rewrites, all for lack of a network:
 * - `transbatch …` → `node dist/cli/main.js …`;
 * - `export OPENAI_API_KEY=…` → the key and URL of an emulator standing in for
 *   OpenAI (its upstream engine answers with Korean-looking text, so every
 *   check runs as it would on the real API);
 * - `upstream_url: http://localhost:11434/v1` (Ollama) → a fake local model
 *   server started here (same Korean-looking answers, no key);
 * - `transbatch run` against the stand-in gets `--poll-interval 100ms`;
 * - `transbatch serve --port 8787` → `--port 0` in the background; its printed
 *   OPENAI_BASE_URL replaces http://127.0.0.1:8787/v1 in later lines.
 * Lines not run are listed in SKIPPED with the reason.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { CLI_MAIN, REPO_ROOT } from '../helpers/cli.js';

interface Block {
  lang: string;
  body: string;
}

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const BLOCKS: Block[] = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }));

/** Lines the test does not run, with the reason. */
const SKIPPED: Record<string, string> = {
  'npm ci && npm test':
    'what CI runs; the suite cannot run itself from inside (npm ci would also replace node_modules under the running tests)',
  'npm run build': 'dist/ is built before the suite (npm test runs it as pretest); checked to exist instead',
};

/** Expected output of a command, by its first words (stdout + stderr). */
const EXPECTED: [RegExp, RegExp][] = [
  [/^init /, /wrote|alpaca-ko\.yaml/],
  [/^estimate /, /requests\s+\d+ to send/],
  [/^status /, /rows\s+\d+ done, \d+ pending, \d+ rejected/],
  [/^review /, /review\.html/],
  [/^batches list/, /batch_/],
];

/** The README's run summary (the bare block that starts with "… rows in;"). */
const RUN_SUMMARY =
  BLOCKS.find((b) => b.lang === '' && /^\d+ rows in;/.test(b.body))
    ?.body.trim()
    .split('\n') ?? [];

const FAKE_MODEL_KEY = 'fake-openai-key';
let work: string;
let env: NodeJS.ProcessEnv;
let fakeModel: Server;
let fakeModelUrl: string;
let openaiStandIn: EmulatorHandle;
let served: { process: ChildProcess; url: string; key: string } | undefined;
const ran = new Set<string>();

/** Answers like a translating model: every English word becomes Hangul; sentinels, digits and punctuation stay. */
function koreanLooking(text: string): string {
  return text.replace(/[A-Za-z]+/g, (word) =>
    Array.from({ length: Math.max(1, Math.ceil(word.length / 2)) }, (_, i) =>
      String.fromCharCode(0xac00 + ((((word.charCodeAt(i % word.length) * 31 + i * 7) % 400) * 28) % 11172)),
    ).join(''),
  );
}

function startFakeModel(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const request = JSON.parse(body) as { model: string; messages: { role: string; content: string }[] };
      const text = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      const content = koreanLooking(text);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: request.model,
          choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: text.length, completion_tokens: content.length, total_tokens: text.length + content.length },
        }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'transbatch-readme-'));
  for (const dir of ['pipelines', 'data-samples', 'schema']) cpSync(join(REPO_ROOT, dir), join(work, dir), { recursive: true });
  env = { ...process.env, TRANSBATCH_CACHE_DIR: join(work, '.cache') };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  fakeModel = await startFakeModel();
  fakeModelUrl = `http://127.0.0.1:${(fakeModel.address() as AddressInfo).port}/v1`;
  openaiStandIn = await startEmulator({
    dataDir: join(work, '.openai-stand-in'),
    apiKey: FAKE_MODEL_KEY,
    engine: 'upstream',
    upstreamUrl: fakeModelUrl,
  });
});

afterAll(async () => {
  served?.process.kill('SIGTERM');
  await openaiStandIn?.close();
  await new Promise((resolve) => fakeModel?.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

/** Splits a command line into words ('…' and "…" quoting; a trailing `# comment` dropped). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(#.*$)|(\S+)/g)) {
    if (m[3] !== undefined) break;
    out.push(m[1] ?? m[2] ?? m[4] ?? '');
  }
  return out;
}

/** Async: the fake model and the OpenAI stand-in live in this process and must keep answering. */
function cli(args: string[]): Promise<{ code: number; output: string; stdout: string }> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, output: `${stdout}\n${stderr}`, stdout })));
}

async function serve(args: string[]): Promise<void> {
  const port = args.indexOf('--port');
  const rewritten = port >= 0 ? [...args.slice(0, port), '--port', '0', ...args.slice(port + 2)] : [...args, '--port', '0'];
  const child = spawn(process.execPath, [CLI_MAIN, ...rewritten, '--data-dir', join(work, '.served')], {
    cwd: work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const printed = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (/OPENAI_API_KEY=\S+\n/.test(out)) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before printing its URL: ${out}`)));
  });
  const url = /OPENAI_BASE_URL=(\S+)/.exec(printed)?.[1];
  const key = /OPENAI_API_KEY=(\S+)/.exec(printed)?.[1];
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  served = { process: child, url: url!, key: key! };
}

async function runLine(line: string): Promise<void> {
  if (line === 'npm ci && npm start') {
    const { code, stdout } = await cli(['run', 'pipelines/example.yaml']);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain('wrote ../out/alpaca-mini.ko.jsonl'.replace('../', ''));
    expect(stdout).toContain('out/alpaca-mini.ja.jsonl');
    return;
  }
  if (line === 'npm run build') {
    expect(existsSync(CLI_MAIN)).toBe(true);
    return;
  }
  const argv = words(line);
  if (argv[0] === 'export') {
    for (const assignment of argv.slice(1)) {
      const [name, value = ''] = assignment.split('=', 2) as [string, string?];
      if (name === 'OPENAI_API_KEY' && value.startsWith('sk-')) {
        // A real key: the stand-in for OpenAI answers instead.
        env.OPENAI_API_KEY = FAKE_MODEL_KEY;
        env.OPENAI_BASE_URL = openaiStandIn.url;
      } else if (name === 'OPENAI_BASE_URL') {
        expect(served, 'export OPENAI_BASE_URL comes after `transbatch serve`').toBeDefined();
        env.OPENAI_BASE_URL = value.replace(/^http:\/\/127\.0\.0\.1:8787\/v1$/, served!.url);
      } else env[name] = value;
    }
    return;
  }
  expect(argv[0], `a README command this test does not know how to run: ${line}`).toBe('transbatch');
  const args = argv.slice(1);
  if (args[0] === 'serve') return serve(args);
  // The stand-in answers at once: poll it faster than the README's 30s.
  const fast = args[0] === 'run' && env.OPENAI_BASE_URL === openaiStandIn.url ? ['--poll-interval', '100ms'] : [];
  const { code, output, stdout } = await cli([...args, ...fast]);
  expect(code, output).toBe(0);
  const rest = args.join(' ');
  for (const [command, expected] of EXPECTED) if (command.test(rest)) expect(output).toMatch(expected);
  if (args[0] === 'run') {
    const key = args.slice(0, 2).join(' ');
    if (ran.has(key)) expect(output).toContain('This run already finished; nothing to do.');
    else {
      expect(stdout).toMatch(/^\s+wrote \S+ \(\d+ rows\)$/m);
      if (args[1] === 'pipelines/alpaca-ko.yaml') for (const summary of RUN_SUMMARY) expect(stdout).toContain(summary);
    }
    ran.add(key);
  }
}

function writeNamedYaml(body: string): string | undefined {
  const name = /^# (pipelines\/[\w.-]+\.ya?ml)\n/.exec(body)?.[1];
  if (!name) return undefined;
  const path = join(work, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body.replaceAll('http://localhost:11434/v1', fakeModelUrl));
  return name;
}

describe('README.md samples', () => {
  it('has the quick start commands verbatim', () => {
    const sh = BLOCKS.filter((b) => b.lang === 'sh').map((b) => b.body.trim());
    expect(sh).toContain('npm ci && npm start');
    expect(sh).toContain('npm ci && npm test');
    expect(BLOCKS.filter((b) => b.lang === 'js')).toHaveLength(1);
    expect(RUN_SUMMARY.length).toBeGreaterThan(0);
  });

  for (const [index, block] of BLOCKS.entries()) {
    if (block.lang === 'yaml') {
      it(`yaml block ${index} (written if it names its file)`, () => {
        const name = writeNamedYaml(block.body);
        if (name) expect(existsSync(join(work, name))).toBe(true);
      });
    } else if (block.lang === 'sh') {
      for (const line of block.body.split('\n').map((l) => l.trim())) {
        if (!line) continue;
        if (line in SKIPPED) {
          it.skip(`$ ${line} — skipped: ${SKIPPED[line]}`, () => {});
          continue;
        }
        it(`$ ${line}`, () => runLine(line));
      }
    } else if (block.lang === 'js') {
      it('the js sample runs against the served emulator', () => {
        expect(served, 'the js sample follows `transbatch serve`').toBeDefined();
        // Inside the repository so `openai` resolves from its node_modules.
        const file = join(REPO_ROOT, `.readme-sample-${process.pid}.mjs`);
        writeFileSync(file, block.body);
        try {
          const result = spawnSync(process.execPath, [file], {
            env: { ...env, OPENAI_BASE_URL: served!.url, OPENAI_API_KEY: served!.key },
            encoding: 'utf8',
            timeout: 30_000,
          });
          expect(result.status, result.stderr).toBe(0);
          const line = JSON.parse(result.stdout.trim().split('\n')[0] ?? '') as { custom_id: string; response: { status_code: number } };
          expect(line.custom_id).toBe('a');
          expect(line.response.status_code).toBe(200);
        } finally {
          rmSync(file, { force: true });
        }
      });
    }
  }
});
