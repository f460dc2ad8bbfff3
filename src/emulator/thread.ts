/**
 * The emulator in a `worker_threads` Worker of the same process: it parses,
 * answers and writes batches on another core while the client uploads,
 * polls, downloads and merges on the main thread. The client still talks to
 * it over loopback HTTP (the worker listens on 127.0.0.1 and posts its URL).
 *
 * From the compiled `dist/` the worker runs `worker.js` next to this module.
 * From the TypeScript sources (vitest runs `src/` directly) there is no
 * `worker.js`: the worker then registers a module hook that strips the types
 * of `.ts` files with the transformer vite itself uses (rolldown's oxc
 * `transformSync`), so tests exercise the same worker path as the CLI.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EmulatorOptions } from './types.js';
import type { ParentMessage, WorkerMessage } from './worker.js';

export interface EmulatorThread {
  /** Base URL including `/v1`. */
  url: string;
  origin: string;
  port: number;
  /** Closes the emulator (running batches stop, as on a restart) and ends the worker. */
  close(): Promise<void>;
}

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

function workerSpec(options: EmulatorOptions): { filename: string | URL; eval: boolean; workerData: unknown } {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return { filename: new URL('./worker.js', self), eval: false, workerData: options };
  const transformer = pathToFileURL(createRequire(self).resolve('rolldown/experimental')).href;
  return {
    filename: TS_BOOTSTRAP,
    eval: true,
    workerData: {
      ...options,
      hooks: `data:text/javascript,${encodeURIComponent(TS_HOOKS)}`,
      transformer,
      entry: new URL('./worker.ts', self).href,
    },
  };
}

function rebuildError(failure: Extract<WorkerMessage, { type: 'failed' }>['error']): Error {
  const error = new Error(failure.message) as Error & { code?: string };
  error.name = failure.name;
  if (failure.code !== undefined) error.code = failure.code;
  if (failure.stack !== undefined) error.stack = failure.stack;
  return error;
}

/** Starts the emulator in a worker; rejects with the error that stopped it from starting. */
export function startEmulatorThread(options: EmulatorOptions): Promise<EmulatorThread> {
  const spec = workerSpec(options);
  const worker = new Worker(spec.filename, {
    eval: spec.eval,
    workerData: spec.workerData,
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return new Promise<EmulatorThread>((resolve, reject) => {
    let started = false;
    let closeRequested = false;
    const fail = (error: Error): void => {
      if (started) {
        if (!closeRequested) console.error('emulator: the worker thread failed:', error);
        return;
      }
      started = true;
      closeRequested = true; // its exit is expected now
      void worker.terminate();
      reject(error);
    };
    worker.on('error', fail);
    void exited.then((code) => fail(new Error(`the emulator's worker thread exited (code ${code}) before it started`)));
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'failed') fail(rebuildError(message.error));
      if (message.type !== 'ready' || started) return;
      started = true;
      let closing: Promise<void> | undefined;
      resolve({
        url: message.url,
        origin: message.origin,
        port: message.port,
        close() {
          closing ??= (async () => {
            closeRequested = true;
            const closed = new Promise<void>((done) => {
              worker.on('message', (reply: WorkerMessage) => {
                if (reply.type === 'closed') done();
              });
              void exited.then(() => done());
            });
            worker.postMessage({ type: 'close' } satisfies ParentMessage);
            await closed;
            await worker.terminate();
          })();
          return closing;
        },
      });
    });
  });
}
