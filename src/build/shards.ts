/**
 * Writes batch input lines into shard files under the provider's limits
 * (lines and bytes per file), UTF-8 without BOM, one JSON object per line.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
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

/** A batch line given as bytes to copy and text to encode, so a memoised head is never re-encoded. */
export interface LineParts {
  /** ASCII text before `bytes` (the custom_id prefix). */
  prefix: string;
  bytes: Buffer;
  /** Text after `bytes`, without the newline. */
  suffix: string;
}

interface OpenShard {
  number: number;
  path: string;
  fd: number;
  hash: Hash;
  lines: number;
  bytes: number;
  inputTokens: number;
}

/** Lines are encoded into one reusable buffer and written a buffer at a time (no per-line allocation). */
const BUFFER_BYTES = 1024 * 1024;

/**
 * Shard files are written synchronously: prepare is a batch step with
 * nothing else to serve, and a write of a few MB into the page cache costs
 * less than the promise and stream machinery around it.
 */
export class ShardWriter {
  private current: OpenShard | null = null;
  private nextNumber: number;
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  /** Bytes of `buffer` that belong to the current shard and are not written yet. */
  private used = 0;

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
  add(line: string | LineParts, inputTokens: number, what: string): number {
    const maxBytes = typeof line === 'string' ? line.length * 3 + 1 : (line.prefix.length + line.suffix.length) * 3 + line.bytes.length + 1;
    const start = this.reserve(maxBytes);
    let end = start;
    if (typeof line === 'string') end += this.buffer.write(line, end);
    else {
      end += this.buffer.write(line.prefix, end, 'latin1');
      end += line.bytes.copy(this.buffer, end);
      end += this.buffer.write(line.suffix, end);
    }
    this.buffer[end++] = 0x0a;
    const bytes = end - start;
    if (bytes > this.limits.maxBytes) {
      throw new TransbatchError(
        'input',
        `${what}: its request is ${bytes} bytes, more than batch.max_bytes_per_file (${this.limits.maxBytes}); lower split.max_chunk_tokens`,
      );
    }
    if (this.current && !this.fits(this.current, bytes, inputTokens)) {
      // Everything before this line belongs to the full shard; the line starts the next one.
      this.closeCurrent();
      this.buffer.copyWithin(0, start, end);
      end = bytes;
    }
    const shard = this.current ?? this.open();
    this.used = end;
    shard.lines++;
    shard.bytes += bytes;
    shard.inputTokens += inputTokens;
    return shard.number;
  }

  close(): void {
    this.closeCurrent();
  }

  /** Makes room for `maxBytes` after the used part of the buffer; returns where the line starts. */
  private reserve(maxBytes: number): number {
    if (this.used + maxBytes <= this.buffer.length) return this.used;
    this.flush();
    if (maxBytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(maxBytes);
    return 0;
  }

  private fits(shard: OpenShard, bytes: number, tokens: number): boolean {
    if (shard.lines + 1 > this.limits.maxRequests) return false;
    if (shard.bytes + bytes > this.limits.maxBytes) return false;
    const maxTokens = this.limits.maxTokens;
    return maxTokens === undefined || shard.inputTokens + tokens <= maxTokens;
  }

  private flush(): void {
    const shard = this.current;
    if (!shard || this.used === 0) {
      this.used = 0;
      return;
    }
    const bytes = this.buffer.subarray(0, this.used);
    shard.hash.update(bytes);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(shard.fd, bytes, offset);
    this.used = 0;
  }

  private open(): OpenShard {
    const number = this.nextNumber++;
    const path = join(this.dir, shardFileName(number));
    this.current = { number, path, fd: openSync(path, 'w'), hash: createHash('sha256'), lines: 0, bytes: 0, inputTokens: 0 };
    return this.current;
  }

  private closeCurrent(): void {
    const shard = this.current;
    if (!shard) return;
    this.flush();
    this.current = null;
    closeSync(shard.fd);
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
