/**
 * The emulator in a `worker_threads` Worker of the same process: it parses,
 * answers and writes batches on another core while the client uploads,
 * polls, downloads and merges on the main thread. The client still talks to
 * it over loopback HTTP (the worker listens on 127.0.0.1 and posts its URL).
 * Started by `startModuleWorker`, from `dist/` or the TypeScript sources alike.
 */
import { errorFromMessage, startModuleWorker } from '../worker-thread.js';
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

/**
 * The worker's heap limits. Its live data is ~10-20 MB, but with V8's
 * defaults its heap reached ~60 MB: a 32 MB young generation full of
 * short-lived garbage (parsed request lines, answers, socket chunks), and an
 * old generation let to grow to ~4x its live size before a full GC (the
 * factor V8 picks when the heap may grow to gigabytes). An 8 MB young
 * generation scavenges more often (cheap: little survives); a 1 GB old
 * generation cap makes V8 grow it by ~1.6x instead, far above anything the
 * emulator holds (a Set of custom_ids per batch being validated). Together:
 * ~30 MB of heap instead of ~60 (measured at 100k rows).
 */
export const EMULATOR_HEAP_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 1024 } as const;

/** Starts the emulator in a worker; rejects with the error that stopped it from starting. */
export function startEmulatorThread(options: EmulatorOptions): Promise<EmulatorThread> {
  // Nobody can read the worker's event list from here: do not grow one.
  const worker = startModuleWorker(import.meta.url, './worker', { ...options, keepEvents: false } satisfies EmulatorOptions, {
    resourceLimits: EMULATOR_HEAP_LIMITS,
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
      if (message.type === 'failed') fail(errorFromMessage(message.error));
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
