/**
 * A JSONL output sink: writes lines to a staged file with backpressure,
 * hashing and counting as it goes. With a shuffle window it reorders lines
 * within windows of a few hundred, deterministically, so shuffled output
 * never needs the whole file in memory.
 */
import { createHash } from 'node:crypto';
import { BlockWriter } from '../../block-io.js';
import type { StagedFile } from '../store/file-store.js';

export interface ShuffleOptions {
  window: number;
  seed: number;
}

/** mulberry32: tiny seeded PRNG. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class JsonlSink {
  private readonly writer: BlockWriter;
  private readonly hash = createHash('sha256');
  private readonly pending: string[] = [];
  private readonly random: (() => number) | undefined;
  lines = 0;

  constructor(
    readonly path: string,
    private readonly shuffle?: ShuffleOptions,
  ) {
    // Lines are UTF-8-encoded straight into 512 KB blocks, written (and hashed) a block at a time:
    // no per-line syscall or hash update, no joined string to flatten and re-encode.
    this.writer = new BlockWriter(path, (block) => this.hash.update(block));
    this.random = shuffle ? prng(shuffle.seed) : undefined;
  }

  get bytes(): number {
    return this.writer.bytes;
  }

  write(value: unknown): Promise<void> | undefined {
    return this.writeLine(JSON.stringify(value));
  }

  /** One line of already-serialized JSON; a promise only when a full block has to be flushed (await it then). */
  writeLine(json: string): Promise<void> | undefined {
    const line = `${json}\n`;
    this.lines += 1;
    if (!this.shuffle) return this.writeRaw(line);
    this.pending.push(line);
    if (this.pending.length >= this.shuffle.window) return this.flushWindow();
    return undefined;
  }

  private async flushWindow(): Promise<void> {
    const random = this.random ?? Math.random;
    for (let index = this.pending.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [this.pending[index], this.pending[other]] = [this.pending[other] as string, this.pending[index] as string];
    }
    for (const line of this.pending.splice(0)) {
      const flushing = this.writeRaw(line);
      if (flushing) await flushing;
    }
  }

  private writeRaw(line: string): Promise<void> | undefined {
    return this.writer.writeText(line);
  }

  async finish(): Promise<StagedFile> {
    await this.flushWindow();
    await this.writer.finish();
    return { tmpPath: this.path, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.writer.abort();
  }
}
