/**
 * The md5 of a file, computed on a thread of its own: `uploads.complete`
 * wants it, and hashing a 190 MB shard costs ~0.3 s of CPU that the main
 * thread, which uploads and collects, cannot spare (~6 s per 1M rows).
 * The thread reads the file itself (from the page cache, as the upload does)
 * while the parts are sent, so the hash is ready by the time they are.
 */
import { Worker } from 'node:worker_threads';

const HASHER = `
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const hash = createHash('md5');
const buffer = Buffer.allocUnsafe(1024 * 1024);
const fd = openSync(workerData.path, 'r');
try {
  for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, read));
} finally {
  closeSync(fd);
}
parentPort.postMessage(hash.digest('hex'));
`;

export function md5OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HASHER, {
      eval: true,
      workerData: { path },
      // It allocates one buffer: a small heap keeps the thread's memory small.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    worker.once('message', (digest: string) => resolve(digest));
    worker.once('error', reject);
    // After the message this changes nothing; before it, the thread died without an answer.
    worker.once('exit', (code) => reject(new Error(`hashing ${path} stopped (thread exit ${code})`)));
  });
}
