/**
 * The worker side of PrepareWriter: applies prepare's record batches to the
 * run state on its own core, one transaction per batch, and acknowledges
 * each commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorToMessage, ownWorkerData } from '../worker-thread.js';
import type { PrepareBatch, PrepareWorkerData, WriterReply, WriterRequest } from './prepare-writer.js';
import { RunState } from './run-state.js';

if (!parentPort) throw new Error('prepare writer: not started as a worker thread');
const port = parentPort;
const post = (message: WriterReply): void => port.postMessage(message);

const { runDir } = ownWorkerData<PrepareWorkerData>(workerData);
let writer: ReturnType<typeof openWriter> | undefined;

function openWriter() {
  const state = RunState.open(runDir);
  const db = state.db;
  // Appends touch each page once: a small cache does, and this thread's memory counts in the process's.
  db.pragma('cache_size = -2048');
  return {
    state,
    insertRequest: db.prepare(
      'INSERT INTO requests (id, custom_id, hash, row, text, input_tokens, expected_output_tokens, shard) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertCached: db.prepare("INSERT INTO outcomes (request_id, status, source, content, finish_reason) VALUES (?, 'done', 'cache', ?, ?)"),
    insertUnit: db.prepare('INSERT INTO units (row, cell, lang, chunk, request_id, pack_key) VALUES (?, ?, ?, ?, ?, ?)'),
  };
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function apply(batch: PrepareBatch): void {
  writer ??= openWriter();
  const { state, insertRequest, insertCached, insertUnit } = writer;
  const keys = asBuffer(batch.keys);
  const overflowKeys = asBuffer(batch.overflowKeys);
  state.transaction(() => {
    batch.requests.forEach(([id, customId, row, text, inputTokens, outputTokens, shard, cached], index) => {
      insertRequest.run(id, customId, keys.subarray(index * 16, index * 16 + 16), row, text, inputTokens, outputTokens, shard);
      if (cached) insertCached.run(id, cached[0], cached[1]);
    });
    for (const unit of batch.units) insertUnit.run(...unit);
    for (const shard of batch.shards) state.insertShard({ ...shard, attempt: 1 });
    for (const [index, id] of batch.overflowIds.entries()) state.keyOverflow.insert(overflowKeys.subarray(index * 16, index * 16 + 16), id);
  });
}

function close(): void {
  writer?.state.close();
  writer = undefined;
}

port.on('message', (message: WriterRequest) => {
  try {
    if (message.type === 'batch') {
      apply(message.batch);
      post({ type: 'committed', seq: message.batch.seq });
    } else {
      close();
      post({ type: 'finished' });
    }
  } catch (error) {
    close();
    post({ type: 'failed', error: errorToMessage(error) });
  }
});
