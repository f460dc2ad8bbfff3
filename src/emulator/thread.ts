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

/** Starts the emulator in a worker; rejects with the error that stopped it from starting. */
export function startEmulatorThread(options: EmulatorOptions): Promise<EmulatorThread> {
  const worker = startModuleWorker(import.meta.url, './worker', options);
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
