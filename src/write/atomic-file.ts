import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { TransbatchError } from '../errors.js';

const RESOLVED: Promise<void> = Promise.resolve();
/** Small texts are encoded straight into a buffer of this size, written when full. */
const TEXT_BATCH_BYTES = 1 << 16;

function cannotWrite(path: string, error: unknown): TransbatchError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new TransbatchError('config', `cannot write ${path}: ${code}`, { file: path }, { cause: error });
}

/**
 * An output file that appears at `path` only when complete: bytes go to
 * `<path>.tmp-<pid>` beside it, renamed over `path` by `close()`.
 */
export class AtomicFile {
  readonly tempPath: string;
  private readonly file;
  /** Where writes go: the file, or a transform piped into it (CSV). */
  private entry: Writable;
  /** Encoding each text into a buffer as it comes is far cheaper than joining strings and encoding the join. */
  private textBuffer = Buffer.allocUnsafe(TEXT_BATCH_BYTES);
  private textBytes = 0;
  private failure: Error | undefined;
  private readonly closed: Promise<void>;
  private state: 'open' | 'closing' | 'finished' = 'open';

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw cannotWrite(path, error);
    }
    this.tempPath = `${path}.tmp-${process.pid}`;
    this.file = createWriteStream(this.tempPath);
    this.entry = this.file;
    this.file.on('error', (error) => this.fail(error));
    this.closed = new Promise((resolve) => this.file.once('close', resolve));
  }

  /** Routes writes through `head` (object mode allowed), whose output lands in the file. */
  pipeFrom(head: Writable & NodeJS.ReadableStream): void {
    head.on('error', (error) => {
      this.fail(error);
      this.file.destroy();
    });
    head.pipe(this.file);
    this.entry = head;
  }

  /** Writes a chunk to the entry stream, waiting only when it pushes back. */
  write(chunk: unknown): Promise<void> {
    if (this.failure) return Promise.reject(cannotWrite(this.path, this.failure));
    if (this.state !== 'open') return Promise.reject(new Error(`write after close or abort: ${this.path}`));
    return this.entry.write(chunk) ? RESOLVED : this.drained();
  }

  /** Buffers small texts into larger writes; much faster for millions of rows. */
  writeText(text: string): Promise<void> {
    if (this.failure) return Promise.reject(cannotWrite(this.path, this.failure));
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.textBytes + text.length * 3 > TEXT_BATCH_BYTES) {
      const flushed = this.flushText();
      if (text.length * 3 > TEXT_BATCH_BYTES) return flushed === RESOLVED ? this.write(text) : flushed.then(() => this.write(text));
      if (flushed !== RESOLVED) {
        this.textBytes += this.textBuffer.write(text, this.textBytes);
        return flushed;
      }
    }
    this.textBytes += this.textBuffer.write(text, this.textBytes);
    return RESOLVED;
  }

  /** Hands the filled part of the text buffer to the stream (a fresh buffer takes its place). */
  private flushText(): Promise<void> {
    if (this.textBytes === 0) return RESOLVED;
    const chunk = this.textBuffer.subarray(0, this.textBytes);
    this.textBuffer = Buffer.allocUnsafe(TEXT_BATCH_BYTES);
    this.textBytes = 0;
    return this.write(chunk);
  }

  /** Flushes, then renames the temporary file over `path`. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    await this.flushText();
    this.state = 'closing';
    this.entry.end();
    await this.closed;
    this.state = 'finished';
    try {
      if (this.failure) throw this.failure;
      await rename(this.tempPath, this.path);
    } catch (error) {
      await rm(this.tempPath, { force: true });
      throw cannotWrite(this.path, error);
    }
  }

  /** Stops writing and removes the temporary file; `path` is left untouched. */
  async abort(): Promise<void> {
    if (this.state === 'finished') return;
    this.state = 'finished';
    this.textBytes = 0;
    this.entry.destroy();
    this.file.destroy();
    await this.closed;
    rmSync(this.tempPath, { force: true });
  }

  private fail(error: Error): void {
    this.failure ??= error;
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        this.entry.off('drain', settle);
        this.file.off('close', settle);
        if (this.failure) reject(cannotWrite(this.path, this.failure));
        else resolve();
      };
      this.entry.on('drain', settle);
      this.file.on('close', settle);
    });
  }
}
