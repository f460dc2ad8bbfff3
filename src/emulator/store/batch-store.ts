/**
 * Batches on disk, one JSON file each (`<dataDir>/batches/<id>.json`, written
 * atomically), mirrored in memory. The record carries what a restart needs to
 * finish the batch the same way: its creation order and its injected outcome.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from 'openai/resources/batches';
import type { BatchOutcome } from '../fault-state.js';
import { writeJsonAtomic } from './atomic.js';

export interface BatchRecord {
  batch: Batch;
  /** 1-based creation order within this data dir. */
  seq: number;
  outcome: BatchOutcome;
  inputSha256: string;
  /** Estimated input tokens, known after validation; counts against the enqueued-token limit. */
  estimatedTokens: number;
  /** Requests answered when cancellation was requested (a restart stops there again). */
  processedAtCancel?: number;
  /** From `output_expires_after.seconds` at creation. */
  outputExpiresAfterSeconds?: number;
}

export class BatchStore {
  private readonly records = new Map<string, BatchRecord>();

  private constructor(private readonly dir: string) {}

  static async open(dataDir: string): Promise<BatchStore> {
    const store = new BatchStore(join(dataDir, 'batches'));
    await mkdir(store.dir, { recursive: true });
    const loaded: BatchRecord[] = [];
    for (const name of await readdir(store.dir)) {
      if (name.endsWith('.tmp')) await rm(join(store.dir, name), { force: true });
      else if (name.endsWith('.json')) loaded.push(JSON.parse(await readFile(join(store.dir, name), 'utf8')) as BatchRecord);
    }
    for (const record of loaded.sort((a, b) => a.seq - b.seq)) store.records.set(record.batch.id, record);
    return store;
  }

  get(id: string): BatchRecord | undefined {
    return this.records.get(id);
  }

  nextSeq(): number {
    return this.records.size + 1;
  }

  /** Newest first. */
  list(): BatchRecord[] {
    return [...this.records.values()].sort((a, b) => b.seq - a.seq);
  }

  async save(record: BatchRecord): Promise<void> {
    this.records.set(record.batch.id, record);
    await writeJsonAtomic(join(this.dir, `${record.batch.id}.json`), record);
  }
}
