/**
 * Streams a JSONL file as numbered lines (1-based, as the API reports them),
 * a block of lines per read chunk: each 512 KB chunk (read into one reused
 * buffer, see `block-io.ts`) is cut after its last
 * `\n` (a byte that never occurs inside a multi-byte UTF-8 character) and
 * split at its `\n` bytes, so there is one await per block instead of per
 * line. Each line is decoded on its own, when it is asked for: an ASCII line
 * becomes a compact one-byte string (decoding a whole block turns every line
 * two-byte as soon as one of them holds a non-ASCII character, ~5-10x slower
 * to decode and parse), no line keeps its block alive as a sliced string, and
 * a block's ~400 strings are never alive at once (they would outlive a young
 * GC and leave garbage in the old generation). The file is only read as fast
 * as blocks are consumed, so memory stays bounded by a chunk plus one partial line.
 */
import { BLOCK_BYTES, readBlocks, readBlocksSync } from '../block-io.js';

export interface NumberedLine {
  number: number;
  text: string;
}

/**
 * The lines of one read chunk. Its bytes are the reader's reused buffer:
 * `line()` is valid until the generator is resumed.
 */
export class LineBlock {
  constructor(
    /** The number of line 0. */
    readonly first: number,
    private readonly bytes: Buffer,
    /** Start and end (without the `\n` and a trailing `\r`) of each line. */
    private readonly bounds: number[],
  ) {}

  get count(): number {
    return this.bounds.length / 2;
  }

  line(index: number): string {
    return this.bytes.toString('utf8', this.bounds[index * 2], this.bounds[index * 2 + 1]);
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Where `bytes.toString().split('\n')` would cut, with one trailing `\r` dropped from each line. */
function lineBounds(bytes: Buffer): number[] {
  const bounds: number[] = [];
  for (let start = 0; ; ) {
    const end = bytes.indexOf(NEWLINE, start);
    const stop = end === -1 ? bytes.length : end;
    bounds.push(start, stop > start && bytes[stop - 1] === CARRIAGE_RETURN ? stop - 1 : stop);
    if (end === -1) return bounds;
    start = end + 1;
  }
}

/**
 * Cuts chunks of a file into LineBlocks. The line still open at the end of
 * the previous chunks is copied to the start of a reused buffer, where the
 * next chunk's complete lines are appended to it: a block costs a copy, not a
 * fresh 512 KB allocation (~2,000 per GB read, each page-faulted in and then
 * left to the GC and malloc).
 */
class LineCutter {
  private number = 1;
  private joined = Buffer.allocUnsafeSlow(0);
  private carried = 0;
  /** The open line after the last block, still in the caller's chunk until `blockDone` copies it. */
  private rest: Buffer | undefined;

  /**
   * The complete lines so far, `chunk` included (none while a line stays
   * open). When the caller asks for what follows, the block is done with and
   * the open line after it moves to the reused buffer: ask before `chunk`'s
   * buffer is read into again.
   */
  *blocksOf(chunk: Buffer): Generator<LineBlock> {
    const block = this.push(chunk);
    if (block === undefined) return;
    yield block;
    this.blockDone();
  }

  /** The last line, when the file does not end with a newline. */
  *end(): Generator<LineBlock> {
    if (this.carried === 0) return;
    const rest = this.joined.subarray(0, this.carried);
    yield new LineBlock(this.number, rest, lineBounds(rest));
  }

  private push(chunk: Buffer): LineBlock | undefined {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.reserve(this.carried + chunk.length);
      this.carried += chunk.copy(this.joined, this.carried);
      return undefined;
    }
    let head = chunk.subarray(0, last);
    if (this.carried > 0) {
      this.reserve(this.carried + last);
      chunk.copy(this.joined, this.carried, 0, last);
      head = this.joined.subarray(0, this.carried + last);
    }
    const block = new LineBlock(this.number, head, lineBounds(head));
    this.number += block.count;
    this.carried = 0;
    // Copied into `joined` by blockDone, once this block is done with (its bytes may be `joined`).
    this.rest = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined;
    return block;
  }

  private blockDone(): void {
    if (this.rest === undefined) return;
    this.reserve(this.rest.length);
    this.carried = this.rest.copy(this.joined, 0);
    this.rest = undefined;
  }

  private reserve(bytes: number): void {
    if (bytes <= this.joined.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(bytes, this.joined.length * 2, BLOCK_BYTES + 64 * 1024));
    this.joined.copy(grown, 0, 0, this.carried);
    this.joined = grown;
  }
}

export async function* readLineBlocks(path: string): AsyncGenerator<LineBlock> {
  const cutter = new LineCutter();
  for await (const chunk of readBlocks(path)) yield* cutter.blocksOf(chunk);
  yield* cutter.end();
}

/**
 * `readLineBlocks` with synchronous reads: for work that must not yield to
 * the event loop between lines (collect records a file in one transaction
 * while other tasks of the run go on around it).
 */
export function* readLineBlocksSync(path: string): Generator<LineBlock> {
  const cutter = new LineCutter();
  for (const chunk of readBlocksSync(path)) yield* cutter.blocksOf(chunk);
  yield* cutter.end();
}

export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  for await (const block of readLineBlocks(path)) {
    for (let index = 0; index < block.count; index++) yield { number: block.first + index, text: block.line(index) };
  }
}

/** Blank (whitespace only); a line starting with `{` is decided without scanning it. */
export function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  if (first === 0x7b) return false;
  return text.trim() === '';
}
