/**
 * prepare's writes to the run state, made by a worker thread: the main thread
 * reads, splits and builds while SQLite inserts the requests, units and
 * shards on the other core (they were half of prepare's time on one).
 *
 * Records are sent in batches, each committed as one transaction and
 * acknowledged. Request ids are assigned here, so units can point at their
 * request before it is written. What the main thread must read back — a
 * request's key, for dedupe — is kept here until its batch is committed, and
 * read from the state after; the number of batches in flight is bounded.
 */
import type { Worker } from 'node:worker_threads';
import type { ShardFile } from '../build/shards.js';
import { type ErrorMessage, errorFromMessage, startModuleWorker } from '../worker-thread.js';
import type { RunState } from './run-state.js';
import type { NewRequest } from './types.js';

/** [id, custom_id, row, text, input tokens, expected output tokens, shard, [cached content, finish reason] | null]; the key is in `keys`. */
type RequestRecord = [number, string, number, string, number, number, number | null, [string, string | null] | null];
type UnitRecord = [number, number, string, number, number, string | null];

export interface PrepareBatch {
  seq: number;
  requests: RequestRecord[];
  /** 16 bytes per request, in order: one buffer per batch, not one (pooled, 8 KB) clone per key. */
  keys: Uint8Array<ArrayBuffer>;
  units: UnitRecord[];
  shards: ShardFile[];
  overflowIds: number[];
  overflowKeys: Uint8Array<ArrayBuffer>;
}

export interface PrepareWorkerData {
  runDir: string;
}
export type WriterRequest = { type: 'batch'; batch: PrepareBatch } | { type: 'finish' };
export type WriterReply = { type: 'committed'; seq: number } | { type: 'finished' } | { type: 'failed'; error: ErrorMessage };

const KEY_BYTES = 16;
/** Records per batch (a transaction in the worker). */
const BATCH_RECORDS = 2000;
/** Batches sent and not yet committed before the main thread waits. */
const MAX_IN_FLIGHT = 2;

export class PrepareWriter {
  private readonly worker: Worker;
  private seq = 0;
  private committed = 0;
  private failure: Error | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  private requests: RequestRecord[] = [];
  private keys: Buffer[] = [];
  private units: UnitRecord[] = [];
  private shards: ShardFile[] = [];
  private overflowIds: number[] = [];
  private overflowKeys: Buffer[] = [];
  /** Keys of requests in batches not committed yet, by request id (ids ascend in insertion order). */
  private readonly unsavedKeys = new Map<number, Buffer>();
  /** The last request id of each batch sent and not committed, by batch. */
  private readonly lastIdOfBatch = new Map<number, number>();
  private readonly unsavedOverflow = new Map<string, { id: number; seq: number }>();
  private nextId: number;

  constructor(
    private readonly state: RunState,
    runDir: string,
  ) {
    this.nextId = state.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM requests').pluck().get() as number;
    // A small young generation: the writer only holds a few batches at a time, and each isolate's heap counts in the process's RSS.
    this.worker = startModuleWorker(import.meta.url, './prepare-writer-worker', { runDir } satisfies PrepareWorkerData, {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on('message', (reply: WriterReply) => {
      if (reply.type === 'committed') this.onCommitted(reply.seq);
      else if (reply.type === 'finished') this.finished = true;
      else this.failure ??= errorFromMessage(reply.error);
      this.wake?.();
    });
    this.worker.on('error', (error) => {
      this.failure ??= error;
      this.wake?.();
    });
    this.worker.on('exit', (code) => {
      if (!this.finished) this.failure ??= new Error(`the run state's writer thread exited (code ${code})`);
      this.wake?.();
    });
  }

  /** Registers a request (queued in `shard`, or answered from the cache); returns its id. */
  request(request: NewRequest, shard: number | null, cached: { content: string; finishReason: string | null } | null): number {
    const id = this.nextId++;
    const { customId, row, text, tokens } = request;
    this.requests.push([
      id,
      customId,
      row,
      text,
      tokens.input,
      tokens.output,
      shard,
      cached ? [cached.content, cached.finishReason] : null,
    ]);
    this.keys.push(request.hash);
    this.unsavedKeys.set(id, request.hash);
    return id;
  }

  unit(row: number, cell: number, lang: string, chunk: number, requestId: number, packKey: string | null = null): void {
    this.units.push([row, cell, lang, chunk, requestId, packKey]);
  }

  shard(shard: ShardFile): void {
    this.shards.push(shard);
  }

  /** The dedupe key of request `id`, written or not. */
  keyOf(id: number): Buffer | undefined {
    return this.unsavedKeys.get(id) ?? this.state.requestKey(id);
  }

  /** Dedupe keys past the in-memory index, as RequestIndex's overflow. */
  readonly keyOverflow = {
    find: (key: Buffer): number | undefined => this.unsavedOverflow.get(key.toString('hex'))?.id ?? this.state.keyOverflow.find(key),
    insert: (key: Buffer, id: number): void => {
      this.overflowIds.push(id);
      this.overflowKeys.push(key);
      this.unsavedOverflow.set(key.toString('hex'), { id, seq: this.seq + 1 });
    },
  };

  /** Sends the buffered records once there are enough of them (or `force`); waits while too many batches are in flight. */
  async flush(force = false): Promise<void> {
    this.throwIfFailed();
    const records = this.requests.length + this.units.length + this.shards.length + this.overflowIds.length;
    if (records === 0 || (!force && records < BATCH_RECORDS)) return;
    const batch: PrepareBatch = {
      seq: ++this.seq,
      requests: this.requests,
      keys: concatKeys(this.keys),
      units: this.units,
      shards: this.shards,
      overflowIds: this.overflowIds,
      overflowKeys: concatKeys(this.overflowKeys),
    };
    this.lastIdOfBatch.set(batch.seq, this.nextId - 1);
    this.requests = [];
    this.keys = [];
    this.units = [];
    this.shards = [];
    this.overflowIds = [];
    this.overflowKeys = [];
    this.worker.postMessage({ type: 'batch', batch } satisfies WriterRequest, [batch.keys.buffer, batch.overflowKeys.buffer]);
    while (this.seq - this.committed > MAX_IN_FLIGHT) await this.nextReply();
  }

  /** Writes everything and stops the worker. */
  async finish(): Promise<void> {
    await this.flush(true);
    while (this.committed < this.seq) await this.nextReply();
    this.worker.postMessage({ type: 'finish' } satisfies WriterRequest);
    while (!this.finished) await this.nextReply();
    await this.worker.terminate();
  }

  /** Stops the worker; what it committed stays (prepare clears it). */
  async abort(): Promise<void> {
    this.finished = true;
    await this.worker.terminate();
  }

  private onCommitted(seq: number): void {
    this.committed = seq;
    const lastId = this.lastIdOfBatch.get(seq) ?? 0;
    this.lastIdOfBatch.delete(seq);
    for (const id of this.unsavedKeys.keys()) {
      if (id > lastId) break;
      this.unsavedKeys.delete(id);
    }
    for (const [hex, entry] of this.unsavedOverflow) {
      if (entry.seq > seq) break;
      this.unsavedOverflow.delete(hex);
    }
  }

  private nextReply(): Promise<void> {
    this.throwIfFailed();
    return new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    }).then(() => this.throwIfFailed());
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

function concatKeys(keys: Buffer[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(keys.length * KEY_BYTES);
  for (const [index, key] of keys.entries()) out.set(key.subarray(0, KEY_BYTES), index * KEY_BYTES);
  return out;
}
