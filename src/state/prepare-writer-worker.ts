/**
 * The worker side of PrepareWriter: writes and hashes prepare's shard files
 * and applies its record batches to the run state on its own core, one
 * transaction per batch, and acknowledges each commit (handing the shard
 * buffers back).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { customIdAt } from '../build/request.js';
import { FileShardSink, type ShardFile } from '../build/shards.js';
import { errorToMessage, ownWorkerData } from '../worker-thread.js';
import { BatchInsert } from './batch-insert.js';
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
/** Shards closed by the batch being applied (the sink reports them with their sha256). */
let closed: ShardFile[] = [];
const shardFiles = new FileShardSink((shard) => closed.push(shard));

function openWriter() {
  const state = RunState.open(runDir);
  const db = state.db;
  // Appends touch each page once: a small cache does, and this thread's memory counts in the process's.
  db.pragma('cache_size = -2048');
  return {
    state,
    insertRequest: new BatchInsert(
      db,
      'requests (id, custom_id, hash, row, text, input_tokens, expected_output_tokens, shard, text_shard, text_at, text_bytes)',
      11,
    ),
    insertCached: db.prepare("INSERT INTO outcomes (request_id, status, source, content, finish_reason) VALUES (?, 'done', 'cache', ?, ?)"),
    insertUnit: new BatchInsert(db, 'units (row, cell, lang, chunk, request_id, pack_key)', 6),
  };
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Where the batch's queued requests' lines are, in order: their custom_ids are read from there, and their texts stay there. */
interface LineRef {
  bytes: Buffer;
  start: number;
  shard: number;
  /** Where the content's JSON literal is in the shard file. */
  contentAt: number;
  contentBytes: number;
}

/** Bytes written so far to each open shard file: where the next buffer of it starts. */
const shardOffsets = new Map<number, number>();

function apply(batch: PrepareBatch): ArrayBuffer[] {
  writer ??= openWriter();
  const { state, insertRequest, insertCached, insertUnit } = writer;
  const lines: LineRef[] = [];
  const buffers: ArrayBuffer[] = [];
  closed = [];
  for (const event of batch.shardEvents) {
    if (event.kind === 'close') {
      shardFiles.close(event.shard);
      shardOffsets.delete(event.shard.number);
      continue;
    }
    const bytes = asBuffer(event.bytes);
    const shard = event.shard.number;
    const offset = shardOffsets.get(shard) ?? 0;
    shardFiles.write(event.shard, bytes, bytes.length);
    shardOffsets.set(shard, offset + bytes.length);
    buffers.push(event.bytes.buffer);
    const marks = event.marks;
    for (let at = 0; at < marks.length; at += 3) {
      const contentStart = marks[at + 1]!;
      lines.push({ bytes, start: marks[at]!, shard, contentAt: offset + contentStart, contentBytes: marks[at + 2]! - contentStart });
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
      // A text that is its line's content stays in the shard file: the state records where (ShardTexts reads it).
      let text = '';
      let inShard: LineRef | null = null;
      if (extra?.kind === 'cached') {
        customId = extra.customId;
        text = extra.text;
      } else {
        const ref = lines[line++];
        if (!ref) throw new Error(`prepare writer: request ${id} has no line in the shard bytes of its batch`);
        customId = customIdAt(ref.bytes, ref.start);
        if (extra?.kind === 'text') text = extra.text;
        else inShard = ref;
      }
      const key = keys.subarray(index * 16, index * 16 + 16);
      insertRequest.add(
        id,
        customId,
        key,
        requests[at + 1]!,
        text,
        requests[at + 2]!,
        requests[at + 3]!,
        shard,
        inShard?.shard ?? null,
        inShard?.contentAt ?? null,
        inShard?.contentBytes ?? null,
      );
      if (extra?.kind === 'cached') insertCached.run(id, extra.content, extra.finishReason);
    }
    const packKeys = new Map(batch.packKeys);
    for (let index = 0; index * UNIT_FIELDS < units.length; index++) {
      const at = index * UNIT_FIELDS;
      const lang = batch.languages[units[at + 2]!];
      insertUnit.add(units[at]!, units[at + 1]!, lang!, units[at + 3]!, units[at + 4]!, packKeys.get(index) ?? null);
    }
    insertRequest.flush();
    insertUnit.flush();
    for (const shard of closed) state.insertShard({ ...shard, attempt: 1 });
    for (const [index, id] of batch.overflowIds.entries()) state.keyOverflow.insert(overflowKeys.subarray(index * 16, index * 16 + 16), id);
  });
  return buffers;
}

function close(): void {
  shardFiles.release();
  shardOffsets.clear();
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
