/**
 * The worker side of PrepareWriter: writes and hashes prepare's shard files
 * and applies its record batches to the run state on its own core, one
 * transaction per batch, and acknowledges each commit (handing the shard
 * buffers back).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { customIdAt } from '../build/request.js';
import { errorToMessage, ownWorkerData } from '../worker-thread.js';
import {
  type PrepareBatch,
  type PrepareWorkerData,
  REQUEST_FIELDS,
  type RequestExtra,
  UNIT_FIELDS,
  type WriterReply,
  type WriterRequest,
} from './prepare-writer.js';
import { RunState } from './run-state.js';

if (!parentPort) throw new Error('prepare writer: not started as a worker thread');
const port = parentPort;
const post = (message: WriterReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const { runDir } = ownWorkerData<PrepareWorkerData>(workerData);
let writer: ReturnType<typeof openWriter> | undefined;
/** The shard file being written (prepare writes one at a time). */
let openShard: { number: number; fd: number; hash: Hash } | null = null;

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

/** Where the batch's queued requests' lines are, in order: their custom_ids and texts are read from there. */
interface LineRef {
  bytes: Buffer;
  start: number;
  contentStart: number;
  contentEnd: number;
}

function writeShardBytes(shard: { number: number; path: string }, bytes: Buffer): void {
  if (openShard?.number !== shard.number) {
    closeShardFile();
    openShard = { number: shard.number, fd: openSync(shard.path, 'w'), hash: createHash('sha256') };
  }
  openShard.hash.update(bytes);
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(openShard.fd, bytes, offset);
}

/** Closes the open shard file; returns its sha256. */
function closeShardFile(): string {
  const shard = openShard;
  openShard = null;
  if (shard) closeSync(shard.fd);
  return (shard?.hash ?? createHash('sha256')).digest('hex');
}

function apply(batch: PrepareBatch): ArrayBuffer[] {
  writer ??= openWriter();
  const { state, insertRequest, insertCached, insertUnit } = writer;
  const lines: LineRef[] = [];
  const closed: { number: number; path: string; lines: number; bytes: number; inputTokens: number; sha256: string }[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const event of batch.shardEvents) {
    if (event.kind === 'close') {
      closed.push({ ...event.shard, sha256: closeShardFile() });
      continue;
    }
    const bytes = asBuffer(event.bytes);
    writeShardBytes(event.shard, bytes);
    buffers.push(event.bytes.buffer);
    const marks = event.marks;
    for (let at = 0; at < marks.length; at += 3) {
      lines.push({ bytes, start: marks[at]!, contentStart: marks[at + 1]!, contentEnd: marks[at + 2]! });
    }
  }
  const keys = asBuffer(batch.keys);
  const overflowKeys = asBuffer(batch.overflowKeys);
  const extras = new Map<number, RequestExtra>(batch.extras.map((extra) => [extra.at, extra]));
  const { requests, units } = batch;
  state.transaction(() => {
    let line = 0;
    for (let index = 0; index * REQUEST_FIELDS < requests.length; index++) {
      const at = index * REQUEST_FIELDS;
      const id = requests[at]!;
      const shard = requests[at + 4]! || null;
      const extra = extras.get(index);
      let customId: string;
      // A line's content goes in as its JSON literal bytes: no decoding here (requestText decodes on reading).
      let text: string | Buffer;
      if (extra?.kind === 'cached') {
        customId = extra.customId;
        text = extra.text;
      } else {
        const ref = lines[line++];
        if (!ref) throw new Error(`prepare writer: request ${id} has no line in the shard bytes of its batch`);
        customId = customIdAt(ref.bytes, ref.start);
        text = extra?.kind === 'text' ? extra.text : ref.bytes.subarray(ref.contentStart, ref.contentEnd);
      }
      const key = keys.subarray(index * 16, index * 16 + 16);
      insertRequest.run(id, customId, key, requests[at + 1], text, requests[at + 2], requests[at + 3], shard);
      if (extra?.kind === 'cached') insertCached.run(id, extra.content, extra.finishReason);
    }
    const packKeys = new Map(batch.packKeys);
    for (let index = 0; index * UNIT_FIELDS < units.length; index++) {
      const at = index * UNIT_FIELDS;
      const lang = batch.languages[units[at + 2]!];
      insertUnit.run(units[at], units[at + 1], lang, units[at + 3], units[at + 4], packKeys.get(index) ?? null);
    }
    for (const shard of closed) state.insertShard({ ...shard, attempt: 1 });
    for (const [index, id] of batch.overflowIds.entries()) state.keyOverflow.insert(overflowKeys.subarray(index * 16, index * 16 + 16), id);
  });
  return buffers;
}

function close(): void {
  closeShardFile();
  writer?.state.close();
  writer = undefined;
}

port.on('message', (message: WriterRequest) => {
  try {
    if (message.type === 'batch') {
      const buffers = apply(message.batch);
      post({ type: 'committed', seq: message.batch.seq, buffers }, buffers);
    } else {
      close();
      post({ type: 'finished' });
    }
  } catch (error) {
    close();
    post({ type: 'failed', error: errorToMessage(error) });
  }
});
