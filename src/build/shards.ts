/**
 * Writes batch input lines into shard files under the provider's limits
 * (lines and bytes per file), UTF-8 without BOM, one JSON object per line.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { TransbatchError } from '../errors.js';

export interface ShardLimits {
  maxRequests: number;
  maxBytes: number;
  /** Optional cap on estimated input tokens per shard (enqueued-token budgets). */
  maxTokens?: number;
}

/**
 * The limits from the config. Shards are cut at 95% of the enqueued-token
 * budget: our count is an estimate, and a shard the provider counts just over
 * the limit would fail with token_limit_exceeded every time it is resubmitted.
 */
export function shardLimitsOf(batch: {
  max_requests_per_file: number;
  max_bytes_per_file: number;
  max_enqueued_tokens?: number | undefined;
}): ShardLimits {
  return {
    maxRequests: batch.max_requests_per_file,
    maxBytes: batch.max_bytes_per_file,
    ...(batch.max_enqueued_tokens ? { maxTokens: Math.floor(batch.max_enqueued_tokens * TOKEN_BUDGET_SHARE) } : {}),
  };
}

const TOKEN_BUDGET_SHARE = 0.95;

export interface ShardFile {
  number: number;
  path: string;
  lines: number;
  bytes: number;
  inputTokens: number;
  sha256: string;
}

export function shardFileName(shardNumber: number): string {
  return `shard-${String(shardNumber).padStart(5, '0')}.jsonl`;
}

interface OpenShard {
  number: number;
  path: string;
  stream: WriteStream;
  hash: Hash;
  lines: number;
  bytes: number;
  inputTokens: number;
  /** Lines not yet handed to the stream: one write per ~256 KB instead of one per line. */
  pending: string[];
  pendingBytes: number;
}

const FLUSH_BYTES = 256 * 1024;

export class ShardWriter {
  private current: OpenShard | null = null;
  private nextNumber: number;

  constructor(
    private readonly dir: string,
    private readonly limits: ShardLimits,
    firstNumber: number,
    private readonly onClosed: (shard: ShardFile) => void,
  ) {
    this.nextNumber = firstNumber;
    mkdirSync(dir, { recursive: true });
  }

  /** Adds a line (without newline); returns the number of the shard it went into. */
  async add(line: string, inputTokens: number, what: string): Promise<number> {
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > this.limits.maxBytes) {
      throw new TransbatchError(
        'input',
        `${what}: its request is ${bytes} bytes, more than batch.max_bytes_per_file (${this.limits.maxBytes}); lower split.max_chunk_tokens`,
      );
    }
    let shard = this.current;
    if (shard && !this.fits(shard, bytes, inputTokens)) {
      await this.closeCurrent();
      shard = null;
    }
    shard ??= this.open();
    shard.lines++;
    shard.bytes += bytes;
    shard.inputTokens += inputTokens;
    shard.pending.push(line);
    shard.pendingBytes += bytes;
    if (shard.pendingBytes >= FLUSH_BYTES) await this.flush(shard);
    return shard.number;
  }

  async close(): Promise<void> {
    await this.closeCurrent();
  }

  private fits(shard: OpenShard, bytes: number, tokens: number): boolean {
    if (shard.lines + 1 > this.limits.maxRequests) return false;
    if (shard.bytes + bytes > this.limits.maxBytes) return false;
    const maxTokens = this.limits.maxTokens;
    return maxTokens === undefined || shard.inputTokens + tokens <= maxTokens;
  }

  private async flush(shard: OpenShard): Promise<void> {
    if (shard.pending.length === 0) return;
    // Encoded once: hashing and writing the same string would each encode it again.
    const bytes = Buffer.from(`${shard.pending.join('\n')}\n`);
    shard.pending = [];
    shard.pendingBytes = 0;
    shard.hash.update(bytes);
    if (!shard.stream.write(bytes)) await once(shard.stream, 'drain');
  }

  private open(): OpenShard {
    const number = this.nextNumber++;
    const path = join(this.dir, shardFileName(number));
    this.current = {
      number,
      path,
      stream: createWriteStream(path),
      hash: createHash('sha256'),
      lines: 0,
      bytes: 0,
      inputTokens: 0,
      pending: [],
      pendingBytes: 0,
    };
    return this.current;
  }

  private async closeCurrent(): Promise<void> {
    const shard = this.current;
    if (!shard) return;
    this.current = null;
    await this.flush(shard);
    shard.stream.end();
    await once(shard.stream, 'finish');
    this.onClosed({
      number: shard.number,
      path: shard.path,
      lines: shard.lines,
      bytes: shard.bytes,
      inputTokens: shard.inputTokens,
      sha256: shard.hash.digest('hex'),
    });
  }
}
