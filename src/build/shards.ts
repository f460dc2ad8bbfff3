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

/**
 * A batch line given as parts: the memoised head is copied as bytes, never
 * re-encoded, and where the text to translate sits is recorded (ShardSink's `marks`).
 */
export interface LineParts {
  /** ASCII text before `head` (the custom_id prefix). */
  prefix: string;
  head: Buffer;
  /** The user message's content, as a JSON string literal. */
  content: string;
  /** Bytes after `content`, without the newline. */
  suffix: Buffer;
}

/** A shard about to be written: the first buffer of a shard opens its file. */
export interface ShardTarget {
  number: number;
  path: string;
}

export type ShardTotals = Omit<ShardFile, 'sha256'>;

/**
 * Where a ShardWriter's bytes go. The writer cuts shards and fills a buffer;
 * the sink writes it (here, or on another thread) and hands back the buffer to fill next.
 */
export interface ShardSink {
  /**
   * `buffer.subarray(0, used)` is the next part of `shard`. `marks` holds
   * three offsets per line given as LineParts: line start, content start,
   * content end. Returns the buffer to fill next (the same one, or another if
   * this one was handed off).
   */
  write(shard: ShardTarget, buffer: Buffer, used: number, marks: number[]): Buffer;
  /** Everything of `shard` has been written. */
  close(shard: ShardTotals): void;
}

/** Lines are encoded into one reusable buffer and written a buffer at a time (no per-line allocation). */
export const SHARD_BUFFER_BYTES = 1024 * 1024;

/**
 * Writes shard files on this thread, synchronously: a write of a few MB into
 * the page cache costs less than the promise and stream machinery around it.
 */
export class FileShardSink implements ShardSink {
  private open: { number: number; fd: number; hash: Hash } | null = null;

  constructor(private readonly onClosed: (shard: ShardFile) => void) {}

  write(shard: ShardTarget, buffer: Buffer, used: number): Buffer {
    if (this.open?.number !== shard.number) {
      this.release();
      this.open = { number: shard.number, fd: openSync(shard.path, 'w'), hash: createHash('sha256') };
    }
    const bytes = buffer.subarray(0, used);
    this.open.hash.update(bytes);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.open.fd, bytes, offset);
    return buffer;
  }

  close(shard: ShardTotals): void {
    // Every shard has a line, so its file was opened by a write before it closes.
    const open = this.open;
    this.open = null;
    if (open) closeSync(open.fd);
    this.onClosed({ ...shard, sha256: (open?.hash ?? createHash('sha256')).digest('hex') });
  }

  /** Closes the open file, if any, without reporting it (prepare failed; its shards are removed). */
  release(): void {
    if (this.open) closeSync(this.open.fd);
    this.open = null;
  }
}

interface OpenShard {
  number: number;
  path: string;
  lines: number;
  bytes: number;
  inputTokens: number;
}

/** Cuts lines into shards under the limits and hands them, a buffer at a time, to a sink. */
export class ShardWriter {
  private current: OpenShard | null = null;
  private nextNumber: number;
  private buffer: Buffer = Buffer.allocUnsafeSlow(SHARD_BUFFER_BYTES);
  /** Bytes of `buffer` that belong to the current shard and are not written yet. */
  private used = 0;
  /** ShardSink `marks` of the lines in `buffer`. */
  private marks: number[] = [];

  constructor(
    private readonly dir: string,
    private readonly limits: ShardLimits,
    firstNumber: number,
    private readonly sink: ShardSink,
  ) {
    this.nextNumber = firstNumber;
    mkdirSync(dir, { recursive: true });
  }

  /** Adds a line (without newline); returns the number of the shard it went into. */
  add(line: string | LineParts, inputTokens: number, what: string): number {
    const maxBytes =
      typeof line === 'string'
        ? line.length * 3 + 1
        : (line.prefix.length + line.content.length) * 3 + line.head.length + line.suffix.length + 1;
    const start = this.reserve(maxBytes);
    let end = start;
    let contentStart = -1;
    let contentEnd = -1;
    if (typeof line === 'string') end += this.buffer.write(line, end);
    else {
      end += this.buffer.write(line.prefix, end, 'latin1');
      // TypedArray#set: Buffer#copy's argument handling costs more than the copy of a ~1 KB head.
      this.buffer.set(line.head, end);
      end += line.head.length;
      contentStart = end - start;
      end += this.buffer.write(line.content, end);
      contentEnd = end - start;
      this.buffer.set(line.suffix, end);
      end += line.suffix.length;
    }
    this.buffer[end++] = 0x0a;
    const bytes = end - start;
    if (bytes > this.limits.maxBytes) {
      throw new TransbatchError(
        'input',
        `${what}: its request is ${bytes} bytes, more than batch.max_bytes_per_file (${this.limits.maxBytes}); lower split.max_chunk_tokens`,
      );
    }
    let lineStart = start;
    if (this.current && !this.fits(this.current, bytes, inputTokens)) {
      // Everything before this line belongs to the full shard; the line starts the next one.
      // The sink may keep the buffer, so the line is copied out first (once a shard).
      const moved = Buffer.from(this.buffer.subarray(start, end));
      this.closeCurrent();
      if (this.buffer.length < bytes) this.buffer = Buffer.allocUnsafeSlow(bytes);
      moved.copy(this.buffer, 0);
      lineStart = 0;
      end = bytes;
    }
    const shard = this.current ?? this.open();
    if (contentStart >= 0) this.marks.push(lineStart, lineStart + contentStart, lineStart + contentEnd);
    this.used = end;
    shard.lines++;
    shard.bytes += bytes;
    shard.inputTokens += inputTokens;
    return shard.number;
  }

  /** Hands the buffered lines to the sink now (prepare does before each state batch, so bytes precede the records about them). */
  flush(): void {
    const shard = this.current;
    if (shard && this.used > 0) this.buffer = this.sink.write(shard, this.buffer, this.used, this.marks);
    this.used = 0;
    this.marks = [];
  }

  close(): void {
    this.closeCurrent();
  }

  /** Makes room for `maxBytes` after the used part of the buffer; returns where the line starts. */
  private reserve(maxBytes: number): number {
    if (this.used + maxBytes <= this.buffer.length) return this.used;
    this.flush();
    if (maxBytes > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(maxBytes);
    return 0;
  }

  private fits(shard: OpenShard, bytes: number, tokens: number): boolean {
    if (shard.lines + 1 > this.limits.maxRequests) return false;
    if (shard.bytes + bytes > this.limits.maxBytes) return false;
    const maxTokens = this.limits.maxTokens;
    return maxTokens === undefined || shard.inputTokens + tokens <= maxTokens;
  }

  private open(): OpenShard {
    const number = this.nextNumber++;
    this.current = { number, path: join(this.dir, shardFileName(number)), lines: 0, bytes: 0, inputTokens: 0 };
    return this.current;
  }

  private closeCurrent(): void {
    const shard = this.current;
    if (!shard) return;
    this.flush();
    this.current = null;
    this.sink.close({ number: shard.number, path: shard.path, lines: shard.lines, bytes: shard.bytes, inputTokens: shard.inputTokens });
  }
}
