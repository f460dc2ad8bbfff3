/**
 * File I/O in 512 KB blocks through reused buffers. Every fs request costs a
 * round trip through libuv's thread pool (~0.15 ms of CPU each on the
 * 2-core bench machine, whatever its size), so `createReadStream`'s and
 * `createWriteStream`'s 64 KB requests cost 8x the CPU of 512 KB ones; and
 * each stream chunk is a fresh ArrayBuffer that lives until the next GC, which
 * for I/O-heavy, allocation-light code comes only after tens of MB of them
 * (malloc keeps that memory afterwards). Here at most two buffers per file
 * exist, reused.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, rm } from 'node:fs/promises';

/**
 * 512 KB: few requests (on a loaded 2-core machine each request also costs a
 * context switch to a pool thread, ~0.3-0.5 ms measured in profiles), while
 * the dozen files a busy emulator has open at once (a reader and two sinks
 * per running batch) hold little memory.
 */
export const BLOCK_BYTES = 512 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * The bytes of `path` (or of `[start, end)`), as views of one reused buffer:
 * each view is valid only until the next one is requested (copy what you keep).
 */
export async function* readBlocks(path: string, start = 0, end = Number.POSITIVE_INFINITY): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(BLOCK_BYTES);
    for (let position = start; position < end; ) {
      const want = Math.min(BLOCK_BYTES, end - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** `readBlocks` with synchronous reads (the same reused-buffer contract). */
export function* readBlocksSync(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(BLOCK_BYTES);
    for (let position = 0; ; ) {
      const bytesRead = readSync(fd, buffer, 0, BLOCK_BYTES, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file in 512 KB blocks: bytes (or UTF-8 text) are copied into the
 * current block; a full block is written while the next one fills (at most
 * one write in flight, two buffers, allocated when first needed: an error
 * sink that stays empty costs nothing). `onBlock` sees each block before it
 * is written (hashing).
 */
export class BlockWriter {
  private handle: Promise<FileHandle> | undefined;
  /** The block being filled, and the other one (which may be being written). */
  private current: Buffer = EMPTY;
  private other: Buffer = EMPTY;
  private used = 0;
  private writing: Promise<void> | undefined;
  private failed: unknown;
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly onBlock?: (block: Buffer) => void,
  ) {}

  /** Free room in the current block (allocating the first block). */
  get room(): number {
    if (this.current === EMPTY) this.current = Buffer.allocUnsafe(BLOCK_BYTES);
    return BLOCK_BYTES - this.used;
  }

  /** Copies `chunk` (which the caller may reuse afterwards); a promise when a block had to be flushed. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (chunk.length <= this.room) {
      this.current.set(chunk, this.used);
      this.used += chunk.length;
      return undefined;
    }
    return this.writeSpilling(chunk);
  }

  private async writeSpilling(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.room === 0) await this.flush();
      const take = Math.min(this.room, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + take), this.used);
      this.used += take;
      offset += take;
    }
  }

  /**
   * Encodes `text` as UTF-8 into the current block when it surely fits
   * (3 bytes per UTF-16 unit at most); else flushes first.
   */
  writeText(text: string): Promise<void> | undefined {
    if (text.length * 3 <= this.room) {
      this.used += this.current.write(text, this.used, 'utf8');
      return undefined;
    }
    return this.writeTextSpilling(text);
  }

  private async writeTextSpilling(text: string): Promise<void> {
    await this.flush();
    if (text.length * 3 <= this.room) this.used += this.current.write(text, this.used, 'utf8');
    else await this.writeSpilling(Buffer.from(text, 'utf8'));
  }

  /** Starts writing the current block (after the previous write finished) and moves on to the other buffer. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const block = this.current.subarray(0, this.used);
    const position = this.bytes;
    this.onBlock?.(block);
    this.bytes += block.length;
    // The other buffer is free once its write has finished.
    await this.settle();
    const handle = await this.opened();
    this.writing = writeAll(handle, block, position).catch((error: unknown) => {
      this.failed = error;
    });
    [this.current, this.other] = [this.other === EMPTY ? Buffer.allocUnsafe(BLOCK_BYTES) : this.other, this.current];
    this.used = 0;
  }

  private async settle(): Promise<void> {
    if (this.writing) await this.writing;
    this.writing = undefined;
    if (this.failed !== undefined) throw this.failed;
  }

  private opened(): Promise<FileHandle> {
    this.handle ??= open(this.path, 'w');
    return this.handle;
  }

  /** Writes what is left and closes the file (created even when empty). */
  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
    const handle = await this.opened();
    await handle.close();
  }

  /** Closes the file without writing the rest. */
  async abort(): Promise<void> {
    await this.writing;
    const handle = await this.handle?.catch(() => undefined);
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes `source` to `path` through a BlockWriter (each chunk copied before
 * the next is requested, so a source may reuse its buffer); on failure the
 * file is removed. Returns the bytes written.
 */
export async function writeStreamToFile(
  path: string,
  source: AsyncIterable<Uint8Array>,
  onBlock?: (block: Buffer) => void,
): Promise<number> {
  const writer = new BlockWriter(path, onBlock);
  try {
    for await (const chunk of source) {
      const flushing = writer.write(chunk);
      if (flushing) await flushing;
    }
    await writer.finish();
  } catch (error) {
    await writer.abort();
    await rm(path, { force: true });
    throw error;
  }
  return writer.bytes;
}

async function writeAll(handle: FileHandle, block: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < block.length; ) {
    const { bytesWritten } = await handle.write(block, offset, block.length - offset, position + offset);
    offset += bytesWritten;
  }
}
