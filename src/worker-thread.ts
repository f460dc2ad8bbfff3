/**
 * Starts a module of ours in a `worker_threads` Worker, from the compiled
 * `dist/` (the `.js` file next to the caller) or from the TypeScript sources
 * (vitest runs `src/` directly, where there is no `.js`): the worker then
 * registers a module hook that strips the types of `.ts` files with the
 * transformer vite itself uses (rolldown's oxc `transformSync`), so tests
 * exercise the same worker code as the CLI.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Type stripping for `.ts` modules in the worker (TypeScript-source runs only). */
const TS_HOOKS = `
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
let transformSync;
export async function initialize(data) {
  ({ transformSync } = await import(data.transformer));
}
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const parent = context.parentURL ?? '';
    if (!parent.endsWith('.ts') || !specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
    return nextResolve(specifier.slice(0, -3) + '.ts', context);
  }
}
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const result = transformSync(path, await readFile(path, 'utf8'), { sourcemap: false });
  if (result.errors.length > 0) throw new Error(path + ': ' + result.errors.map((error) => error.message).join('; '));
  return { format: 'module', source: result.code, shortCircuit: true };
}
`;

/** CommonJS bootstrap (an eval'd worker is a script): register the hooks, then import the `.ts` entry. */
const TS_BOOTSTRAP = `
const { register } = require('node:module');
const { workerData } = require('node:worker_threads');
register(workerData.hooks, { data: { transformer: workerData.transformer } });
import(workerData.entry).catch((error) => { setImmediate(() => { throw error; }); });
`;

/** The data a worker started from the TypeScript sources gets besides its own: read it through `ownWorkerData`. */
interface TsWorkerData {
  hooks: string;
  transformer: string;
  entry: string;
  data: unknown;
}

/**
 * Starts `entry` (a path without extension, relative to `callerUrl`, the
 * caller's `import.meta.url`) with `data` as its worker data.
 */
export function startModuleWorker(
  callerUrl: string,
  entry: string,
  data: unknown,
  options: Omit<WorkerOptions, 'eval' | 'workerData'> = {},
): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${entry}.js`, callerUrl), { ...options, workerData: { data } });
  const workerData: TsWorkerData = {
    hooks: `data:text/javascript,${encodeURIComponent(TS_HOOKS)}`,
    transformer: pathToFileURL(createRequire(callerUrl).resolve('rolldown/experimental')).href,
    entry: new URL(`${entry}.ts`, callerUrl).href,
    data,
  };
  return new Worker(TS_BOOTSTRAP, { ...options, eval: true, workerData });
}

/** Inside a worker started by `startModuleWorker`: the data it was given. */
export function ownWorkerData<T>(workerData: unknown): T {
  return (workerData as { data: T }).data;
}

/** An Error as a plain object that survives postMessage, and back. */
export interface ErrorMessage {
  name: string;
  message: string;
  code?: string | undefined;
  stack?: string | undefined;
}

export function errorToMessage(error: unknown): ErrorMessage {
  const failure = error instanceof Error ? error : new Error(String(error));
  return { name: failure.name, message: failure.message, code: (failure as { code?: string }).code, stack: failure.stack };
}

export function errorFromMessage(failure: ErrorMessage): Error {
  const error = new Error(failure.message) as Error & { code?: string };
  error.name = failure.name;
  if (failure.code !== undefined) error.code = failure.code;
  if (failure.stack !== undefined) error.stack = failure.stack;
  return error;
}
