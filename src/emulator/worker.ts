/**
 * The entry of the emulator's worker thread (see `thread.ts`): starts the
 * emulator with the options in `workerData`, posts its URL (or the error that
 * stopped it) to the parent, and closes it when the parent asks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ErrorMessage, errorToMessage, ownWorkerData } from '../worker-thread.js';
import { startEmulator } from './index.js';
import type { EmulatorHandle, EmulatorOptions } from './types.js';

/** Messages from the worker to its parent. */
export type WorkerMessage =
  | { type: 'ready'; url: string; origin: string; port: number }
  | { type: 'failed'; error: ErrorMessage }
  | { type: 'closed' };

/** Messages from the parent to the worker. */
export type ParentMessage = { type: 'close' };

if (!parentPort) throw new Error('emulator worker: not started as a worker thread');
const port = parentPort;

const post = (message: WorkerMessage): void => port.postMessage(message);

let emulator: EmulatorHandle | undefined;
let closeRequested = false;

async function close(): Promise<void> {
  closeRequested = true;
  if (!emulator) return;
  await emulator.close();
  post({ type: 'closed' });
  port.close();
}

port.on('message', (message: ParentMessage) => {
  if (message.type === 'close') void close();
});

try {
  emulator = await startEmulator(ownWorkerData<EmulatorOptions>(workerData));
  post({ type: 'ready', url: emulator.url, origin: emulator.origin, port: emulator.port });
  if (closeRequested) await close();
} catch (error) {
  post({ type: 'failed', error: errorToMessage(error) });
  port.close();
}
