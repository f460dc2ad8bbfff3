/**
 * prepare's writes, made by a worker thread: the main thread reads, splits,
 * builds and encodes shard lines while the worker writes and hashes the shard
 * files and inserts the requests, units and shards into the run state on the
 * other core (they were half of prepare's time on one).
 *
 * Records are sent in batches, each committed as one transaction and
 * acknowledged, with the shard bytes of their lines: a queued request's
 * custom_id and text are read from its line there, not sent again. Request
 * ids are assigned here, so units can point at their request before it is
 * written. What the main thread must read back — a request's key, for dedupe
 * — is kept here until its batch is committed, and read from the state after;
 * the number of batches in flight (and of shard buffers) is bounded.
 */
import type { Worker } from 'node:worker_threads';
import { SHARD_BUFFER_BYTES, type ShardLimits, type ShardSink, type ShardTarget, type ShardTotals, ShardWriter } from '../build/shards.js';
import { type ErrorMessage, errorFromMessage, startModuleWorker } from '../worker-thread.js';
import type { RunState } from './run-state.js';
import type { TokenEstimate } from './types.js';

/** Numbers per request record: id, row, input tokens, expected output tokens, shard (0: none). */
export const REQUEST_FIELDS = 5 as const;
/** Numbers per unit record: row, cell, language (index into `languages`), chunk, request id. */
export const UNIT_FIELDS = 5 as const;

/** What a request record cannot take from its line in the shard bytes; `at` is its index in the batch. */
export type RequestExtra =
  | { at: number; kind: 'text'; text: string }
  | { at: number; kind: 'cached'; customId: string; text: string; content: string; finishReason: string | null };

/** Shard bytes and closes, in the order the ShardWriter made them. */
export type ShardEvent =
  | {
      kind: 'bytes';
      shard: ShardTarget;
      bytes: Uint8Array<ArrayBuffer>;
      /** Per line given as LineParts: line start, content start, content end. */
      marks: Int32Array<ArrayBuffer>;
    }
  | { kind: 'close'; shard: ShardTotals };

/**
 * One transaction's worth of records. Everything big is a typed array, moved
 * to the worker rather than cloned; the texts and custom_ids of queued
 * requests are not sent at all: the worker reads them from the shard bytes.
 */
export interface PrepareBatch {
  seq: number;
  shardEvents: ShardEvent[];
  requests: Float64Array<ArrayBuffer>;
  /** 16 bytes per request, in order. */
  keys: Uint8Array<ArrayBuffer>;
  extras: RequestExtra[];
  languages: string[];
  units: Float64Array<ArrayBuffer>;
  /** [index of the unit in the batch, its key in the packed JSON]. */
  packKeys: [number, string][];
  overflowIds: number[];
  overflowKeys: Uint8Array<ArrayBuffer>;
}

/** A request as prepare registers it; `key` is the dedupe key as a binary string (a char a byte). */
export interface PreparedRequest {
  customId: string;
  key: string;
  row: number;
  text: string;
  tokens: TokenEstimate;
}

export interface PrepareWorkerData {
  runDir: string;
}
export type WriterRequest = { type: 'batch'; batch: PrepareBatch } | { type: 'finish' } | { type: 'abort' };
export type WriterReply =
  /** `buffers`: the batch's shard buffers, written and handed back for reuse. */
  { type: 'committed'; seq: number; buffers: ArrayBuffer[] } | { type: 'finished' } | { type: 'failed'; error: ErrorMessage };

const KEY_BYTES = 16;
/** Records per batch (a transaction in the worker). */
const BATCH_RECORDS = 8000;
/** Batches sent and not yet committed before the main thread waits. */
const MAX_IN_FLIGHT = 2;

export class PrepareWriter {
  private readonly worker: Worker;
  private seq = 0;
  private committed = 0;
  private failure: Error | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  private shardWriter: ShardWriter | undefined;
  private shardEvents: ShardEvent[] = [];
  /** Shard buffers back from the worker, to fill again. */
  private readonly spareBuffers: Buffer[] = [];
  private readonly requests = new RecordBuffer(REQUEST_FIELDS);
  private extras: RequestExtra[] = [];
  private readonly languages: string[] = [];
  private readonly languageIndex = new Map<string, number>();
  private readonly units = new RecordBuffer(UNIT_FIELDS);
  private packKeys: [number, string][] = [];
  private overflowIds: number[] = [];
  private overflowKeys: Buffer[] = [];
  /** Keys of the requests not committed yet, 16 bytes each, of ids `unsavedFrom` onwards (ids ascend). */
  private unsavedKeys = Buffer.allocUnsafeSlow(KEY_BYTES * BATCH_RECORDS * (MAX_IN_FLIGHT + 2));
  private unsavedFrom: number;
  /** The first request id of the batch being gathered. */
  private batchFrom: number;
  /** The last request id of each batch sent and not committed, by batch. */
  private readonly lastIdOfBatch = new Map<number, number>();
  /** Overflow keys (binary strings) not committed yet. */
  private readonly unsavedOverflow = new Map<string, { id: number; seq: number }>();
  private nextId: number;

  constructor(
    private readonly state: RunState,
    runDir: string,
  ) {
    this.nextId = state.db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM requests').pluck().get() as number;
    this.unsavedFrom = this.nextId;
    this.batchFrom = this.nextId;
    // A small young generation: the writer only holds a few batches at a time, and each isolate's heap counts in the process's RSS.
    this.worker = startModuleWorker(import.meta.url, './prepare-writer-worker', { runDir } satisfies PrepareWorkerData, {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on('message', (reply: WriterReply) => {
      if (reply.type === 'committed') this.onCommitted(reply.seq, reply.buffers);
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

  /**
   * The ShardWriter of this prepare: the worker writes and hashes its files
   * and records them in the state; `onClosed` tells the caller a shard is complete.
   */
  shards(dir: string, limits: ShardLimits, onClosed: (shard: ShardTotals) => void): ShardWriter {
    const sink: ShardSink = {
      write: (shard, buffer, used, marks) => {
        this.shardEvents.push({
          kind: 'bytes',
          shard: { number: shard.number, path: shard.path },
          bytes: new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, used),
          marks: Int32Array.from(marks),
        });
        return this.spareBuffers.pop() ?? Buffer.allocUnsafeSlow(SHARD_BUFFER_BYTES);
      },
      close: (shard) => {
        this.shardEvents.push({ kind: 'close', shard });
        onClosed(shard);
      },
    };
    this.shardWriter = new ShardWriter(dir, limits, 1, sink);
    return this.shardWriter;
  }

  /**
   * Registers a request whose line went into `shard` (by this writer's
   * ShardWriter, just before): its custom_id is read back from that line, and
   * so is its text when it is the line's user content (`textIsContent`).
   */
  queued(request: PreparedRequest, shard: number, textIsContent: boolean): number {
    if (!textIsContent) this.extras.push({ at: this.requests.count, kind: 'text', text: request.text });
    return this.push(request, shard);
  }

  /** Registers a request answered from the response cache (it has no line). */
  cached(request: PreparedRequest, answer: { content: string; finishReason: string | null }): number {
    this.extras.push({
      at: this.requests.count,
      kind: 'cached',
      customId: request.customId,
      text: request.text,
      content: answer.content,
      finishReason: answer.finishReason,
    });
    return this.push(request, 0);
  }

  private push(request: PreparedRequest, shard: number): number {
    const id = this.nextId++;
    this.requests.add(id, request.row, request.tokens.input, request.tokens.output, shard);
    const at = (id - this.unsavedFrom) * KEY_BYTES;
    if (at + KEY_BYTES > this.unsavedKeys.length) {
      const grown = Buffer.allocUnsafeSlow(this.unsavedKeys.length * 2);
      this.unsavedKeys.copy(grown, 0, 0, at);
      this.unsavedKeys = grown;
    }
    this.unsavedKeys.write(request.key, at, KEY_BYTES, 'latin1');
    return id;
  }

  unit(row: number, cell: number, lang: string, chunk: number, requestId: number, packKey: string | null = null): void {
    if (packKey !== null) this.packKeys.push([this.units.count, packKey]);
    this.units.add(row, cell, this.indexOfLanguage(lang), chunk, requestId);
  }

  private indexOfLanguage(lang: string): number {
    let index = this.languageIndex.get(lang);
    if (index === undefined) {
      index = this.languages.push(lang) - 1;
      this.languageIndex.set(lang, index);
    }
    return index;
  }

  /** The dedupe key of request `id`, written or not, as a binary string. */
  keyOf(id: number): string | undefined {
    if (id < this.unsavedFrom) return this.state.requestKey(id)?.toString('latin1');
    if (id >= this.nextId) return undefined;
    const at = (id - this.unsavedFrom) * KEY_BYTES;
    return this.unsavedKeys.toString('latin1', at, at + KEY_BYTES);
  }

  /** Dedupe keys past the in-memory index, as RequestIndex's overflow. */
  readonly keyOverflow = {
    find: (key: string): number | undefined => this.unsavedOverflow.get(key)?.id ?? this.state.keyOverflow.find(Buffer.from(key, 'latin1')),
    insert: (key: string, id: number): void => {
      this.overflowIds.push(id);
      this.overflowKeys.push(Buffer.from(key, 'latin1'));
      this.unsavedOverflow.set(key, { id, seq: this.seq + 1 });
    },
  };

  /** Sends the buffered records once there are enough of them (or `force`); waits while too many batches are in flight. */
  async flush(force = false): Promise<void> {
    this.throwIfFailed();
    const records = this.requests.count + this.units.count + this.shardEvents.length + this.overflowIds.length;
    if (records === 0 || (!force && records < BATCH_RECORDS)) return;
    // The lines of this batch's requests go with it: the worker reads custom_ids and texts from them.
    this.shardWriter?.flush();
    const batch: PrepareBatch = {
      seq: ++this.seq,
      shardEvents: this.shardEvents,
      requests: this.requests.take(),
      keys: this.batchKeys(),
      extras: this.extras,
      languages: this.languages,
      units: this.units.take(),
      packKeys: this.packKeys,
      overflowIds: this.overflowIds,
      overflowKeys: concatKeys(this.overflowKeys),
    };
    this.lastIdOfBatch.set(batch.seq, this.nextId - 1);
    this.batchFrom = this.nextId;
    this.shardEvents = [];
    this.extras = [];
    this.packKeys = [];
    this.overflowIds = [];
    this.overflowKeys = [];
    const moved: ArrayBuffer[] = [batch.requests.buffer, batch.keys.buffer, batch.units.buffer, batch.overflowKeys.buffer];
    for (const event of batch.shardEvents) if (event.kind === 'bytes') moved.push(event.bytes.buffer, event.marks.buffer);
    this.worker.postMessage({ type: 'batch', batch } satisfies WriterRequest, moved);
    while (this.seq - this.committed > MAX_IN_FLIGHT) await this.nextReply();
  }

  /** A copy of the gathered batch's keys, to move to the worker (the originals stay for dedupe until committed). */
  private batchKeys(): Uint8Array<ArrayBuffer> {
    const from = (this.batchFrom - this.unsavedFrom) * KEY_BYTES;
    return new Uint8Array(this.unsavedKeys.subarray(from, (this.nextId - this.unsavedFrom) * KEY_BYTES));
  }

  /** Writes everything and stops the worker. */
  async finish(): Promise<void> {
    await this.flush(true);
    while (this.committed < this.seq) await this.nextReply();
    this.worker.postMessage({ type: 'finish' } satisfies WriterRequest);
    while (!this.finished) await this.nextReply();
    await this.worker.terminate();
  }

  /** Stops the worker once it has closed its files; what it committed stays (prepare clears it). */
  async abort(): Promise<void> {
    if (!this.failure) {
      this.worker.postMessage({ type: 'abort' } satisfies WriterRequest);
      try {
        while (!this.finished) await this.nextReply();
      } catch {}
    }
    this.finished = true;
    await this.worker.terminate();
  }

  private onCommitted(seq: number, buffers: ArrayBuffer[]): void {
    this.committed = seq;
    for (const buffer of buffers) if (buffer.byteLength === SHARD_BUFFER_BYTES) this.spareBuffers.push(Buffer.from(buffer));
    const lastId = this.lastIdOfBatch.get(seq) ?? 0;
    this.lastIdOfBatch.delete(seq);
    if (lastId >= this.unsavedFrom) {
      const saved = (lastId + 1 - this.unsavedFrom) * KEY_BYTES;
      this.unsavedKeys.copyWithin(0, saved, (this.nextId - this.unsavedFrom) * KEY_BYTES);
      this.unsavedFrom = lastId + 1;
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

/** Records of five numbers, gathered in a Float64Array that is moved to the worker whole. */
class RecordBuffer {
  private array: Float64Array<ArrayBuffer>;
  private used = 0;

  constructor(private readonly width: 5) {
    this.array = new Float64Array(width * BATCH_RECORDS);
  }

  get count(): number {
    return this.used / this.width;
  }

  add(a: number, b: number, c: number, d: number, e: number): void {
    if (this.used + this.width > this.array.length) {
      const grown = new Float64Array(this.array.length * 2);
      grown.set(this.array);
      this.array = grown;
    }
    const array = this.array;
    const at = this.used;
    array[at] = a;
    array[at + 1] = b;
    array[at + 2] = c;
    array[at + 3] = d;
    array[at + 4] = e;
    this.used = at + this.width;
  }

  /** The records so far (a view of an array no one else holds); starts a new array. */
  take(): Float64Array<ArrayBuffer> {
    const records = this.array.subarray(0, this.used);
    this.array = new Float64Array(this.width * BATCH_RECORDS);
    this.used = 0;
    return records;
  }
}

function concatKeys(keys: Buffer[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(keys.length * KEY_BYTES);
  for (const [index, key] of keys.entries()) out.set(key.subarray(0, KEY_BYTES), index * KEY_BYTES);
  return out;
}
