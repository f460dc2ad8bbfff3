/**
 * The terminal experience of the built binary: bars and colours only under a
 * pseudo-terminal (util-linux `script`), plain throttled lines on pipes, no
 * colour with NO_COLOR, no progress with --quiet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN } from '../helpers/cli.js';

const hasScript = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const BAR = /[█░]/;
const SGR = /\u001b\[[0-9;]*m/; // colour and style escapes
const CURSOR = /\u001b\[\?25[lh]/; // hide/show cursor, drawn by live bars

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'transbatch-tty-'));
  const rows = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({ id: i, text: `Row ${i}: the quick brown fox jumps over the lazy dog near the river bank.` }),
  );
  writeFileSync(join(dir, 'data.jsonl'), `${rows.join('\n')}\n`);
  writeFileSync(
    join(dir, 'tty.yaml'),
    [
      'name: tty',
      'input: {path: data.jsonl}',
      'fields: [text]',
      'target_languages: [ko]',
      'model: gpt-4o-mini',
      'provider: {kind: local}',
      'batch: {poll_interval: 50ms, max_requests_per_file: 100}',
      'output: {path: "out/{lang}.jsonl"}',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each run starts fresh with its own cache, so every stage has work to show. */
function envFor(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TRANSBATCH_CACHE_DIR: join(dir, `cache-${name}`), TERM: 'xterm' };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return { ...env, ...extra };
}

const shellQuote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

function runUnderTty(name: string, args: string[] = [], extra: Record<string, string> = {}): { code: number; text: string } {
  const command = ['node', CLI_MAIN, 'run', 'tty.yaml', '--fresh', '--run-dir', `runs/${name}`, ...args].map(shellQuote).join(' ');
  const result = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: dir, env: envFor(name, extra), encoding: 'utf8' });
  return { code: result.status ?? -1, text: result.stdout + result.stderr };
}

function runOnPipes(name: string, args: string[], extra: Record<string, string> = {}) {
  const result = spawnSync('node', [CLI_MAIN, 'run', 'tty.yaml', '--fresh', '--run-dir', `runs/${name}`, ...args], {
    cwd: dir,
    env: envFor(name, extra),
    encoding: 'utf8',
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!hasScript)('progress on a terminal', () => {
  it('draws a coloured bar per stage under a pseudo-terminal', () => {
    const { code, text } = runUnderTty('tty');
    expect(code, text).toBe(0);
    expect(text).toMatch(BAR);
    expect(text).toMatch(CURSOR);
    expect(text).toMatch(SGR);
    for (const stage of ['prepare', 'upload', 'wait', 'download', 'merge']) expect(text).toContain(stage);
    expect(text).toContain('300/300 requests');
    expect(text).toContain('wrote out/ko.jsonl (300 rows)');
  });

  it('uses no colour with NO_COLOR, bars still drawn', () => {
    const { code, text } = runUnderTty('nocolor', [], { NO_COLOR: '1' });
    expect(code, text).toBe(0);
    expect(text).toMatch(BAR);
    expect(text).not.toMatch(SGR);
  });

  it('prints no progress with --quiet, only the summary', () => {
    const { code, text } = runUnderTty('quiet', ['--quiet']);
    expect(code, text).toBe(0);
    expect(text).not.toMatch(BAR);
    expect(text).not.toMatch(CURSOR);
    expect(text).not.toMatch(/\b(prepare|upload|wait|download|merge):? /);
    expect(text).toContain('wrote out/ko.jsonl (300 rows)');
  });
});

describe('progress on pipes', () => {
  it('prints plain stage lines without bars or escape codes; data on stdout', () => {
    const { code, stdout, stderr } = runOnPipes('plain', []);
    expect(code, stderr).toBe(0);
    expect(stderr + stdout).not.toMatch(BAR);
    expect(stderr + stdout).not.toMatch(/\u001b\[/);
    expect(stderr).toMatch(/^prepare: 300\/300 rows$/m);
    expect(stderr).toMatch(/^upload: 3\/3 shards \(.+\)$/m);
    expect(stderr).toMatch(/^download: 3\/3 batches$/m);
    expect(stderr).toMatch(/^merge: 300\/300 rows$/m);
    expect(stdout).toContain('wrote out/ko.jsonl (300 rows)');
  });

  it('prints nothing but the summary with --quiet', () => {
    const { code, stdout, stderr } = runOnPipes('plain-quiet', ['--quiet']);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('wrote out/ko.jsonl (300 rows)');
  });

  it('--json prints one JSON object on stdout', () => {
    const { code, stdout, stderr } = runOnPipes('json', ['--json']);
    expect(code, stderr).toBe(0);
    const parsed = JSON.parse(stdout) as { status: string; report: { rows_in: number } };
    expect(parsed.status).toBe('finished');
    expect(parsed.report.rows_in).toBe(300);
  });
});
