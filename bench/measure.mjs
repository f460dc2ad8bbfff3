#!/usr/bin/env node
/**
 * Runs one command as a child process and measures it:
 *   { seconds, cpuSeconds, maxRssMB, exitCode, stdout, stderr }
 * - seconds: wall clock, cpuSeconds: user + sys, maxRssMB: the child's own
 *   peak resident set size as the OS reports it (MiB).
 * With /usr/bin/time (GNU time) the figures come from `-f '%e %U %S %M'`
 * written to a temp file (`-o`), so the child's stderr stays its own.
 * Without it, only node commands are measured: the child is started with
 * `--import <wrapper>`, a module that writes `process.resourceUsage()` (the
 * kernel's getrusage of that process) to a file at exit.
 *
 *   node bench/measure.mjs -- node some-script.mjs --flag   # prints the JSON
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GNU_TIME = '/usr/bin/time';

/** The environment and node flags of a script's shebang (`#!/usr/bin/env -S NAME=value node --flag`). */
function shebangOf(script) {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0];
  const words = /^#!\/usr\/bin\/env\s+(?:-S\s+)?(.*)$/.exec(first)?.[1].trim().split(/\s+/) ?? ['node'];
  const node = Math.max(words.indexOf('node'), 0);
  return { env: Object.fromEntries(words.slice(0, node).map((word) => word.split('=', 2))), flags: words.slice(node + 1) };
}

/** How the CLI's bin runs `script`, so the bench measures what users run: node with the shebang's flags… */
export function cliCommand(script) {
  return [process.execPath, ...shebangOf(script).flags, script];
}

/** …and its environment: this process's, `vars`, then the shebang's variables. */
export function cliEnv(script, vars = {}) {
  return { ...process.env, ...vars, ...shebangOf(script).env };
}

/** True when /usr/bin/time exists and is GNU time (accepts -f and -o). */
let gnuTime;
export function hasGnuTime() {
  if (gnuTime === undefined) gnuTime = existsSync(GNU_TIME) && process.env.BENCH_NO_GNU_TIME !== '1';
  return gnuTime;
}

const WRAPPER = `import { writeFileSync } from 'node:fs';
const out = process.env.BENCH_MEASURE_USAGE_FILE;
process.on('exit', () => {
  try { writeFileSync(out, JSON.stringify(process.resourceUsage())); } catch {}
});
`;

const isNode = (command) => command === process.execPath || command === 'node' || basename(command) === 'node';

/**
 * @param {string[]} argv the command and its arguments, e.g. [process.execPath, 'dist/cli/main.js', 'run', cfg]
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, capture?: number}} [options] capture: max bytes of stdout/stderr kept (default 1 MiB each)
 */
export async function measure(argv, { cwd, env = process.env, capture = 1 << 20 } = {}) {
  const temp = mkdtempSync(join(tmpdir(), 'tb-measure-'));
  try {
    const usageFile = join(temp, 'usage');
    let command;
    let childEnv = env;
    let mode;
    if (hasGnuTime()) {
      mode = 'time';
      command = [GNU_TIME, '-o', usageFile, '-f', '%e %U %S %M', ...argv];
    } else if (isNode(argv[0])) {
      mode = 'wrapper';
      const wrapper = join(temp, 'wrapper.mjs');
      writeFileSync(wrapper, WRAPPER);
      command = [argv[0], '--import', pathToFileURL(wrapper).href, ...argv.slice(1)];
      childEnv = { ...env, BENCH_MEASURE_USAGE_FILE: usageFile };
    } else {
      mode = 'wall';
      command = argv;
    }
    const started = performance.now();
    const { exitCode, signal, stdout, stderr } = await new Promise((resolve, reject) => {
      const child = spawn(command[0], command.slice(1), { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = () => {
        const chunks = [];
        let size = 0;
        return {
          push(chunk) {
            if (size >= capture) return;
            chunks.push(chunk);
            size += chunk.length;
          },
          text: () => Buffer.concat(chunks).toString('utf8').slice(0, capture),
        };
      };
      const out = keep();
      const err = keep();
      child.stdout.on('data', (c) => out.push(c));
      child.stderr.on('data', (c) => err.push(c));
      child.on('error', reject);
      child.on('close', (code, sig) => resolve({ exitCode: code, signal: sig, stdout: out.text(), stderr: err.text() }));
    });
    const wall = (performance.now() - started) / 1000;
    let seconds = wall;
    let cpuSeconds = null;
    let maxRssMB = null;
    if (mode === 'time' && existsSync(usageFile)) {
      // GNU time prefixes "Command exited with non-zero status N" / "Command terminated by signal N".
      const lines = readFileSync(usageFile, 'utf8').trim().split('\n');
      const [e, u, s, m] = lines[lines.length - 1].trim().split(/\s+/).map(Number);
      if ([e, u, s, m].every(Number.isFinite)) {
        seconds = e;
        cpuSeconds = u + s;
        maxRssMB = m / 1024;
      }
    } else if (mode === 'wrapper' && existsSync(usageFile)) {
      const usage = JSON.parse(readFileSync(usageFile, 'utf8'));
      cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
      maxRssMB = usage.maxRSS / 1024;
    }
    return {
      seconds,
      cpuSeconds,
      maxRssMB,
      exitCode: exitCode ?? (signal ? 128 : null),
      signal: signal ?? null,
      stdout,
      stderr,
      via: mode,
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const argv = args[0] === '--' ? args.slice(1) : args;
  if (argv.length === 0) {
    console.error('usage: measure.mjs [--] COMMAND [ARGS…]');
    process.exit(1);
  }
  const { stdout, stderr, ...figures } = await measure(argv);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  console.log(JSON.stringify(figures));
}
