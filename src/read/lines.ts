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
import { BLOCK_BYTES, readBlocks } from '../block-io.js';

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

export async function* readLineBlocks(path: string): AsyncGenerator<LineBlock> {
  let number = 1;
  /**
   * The line still open at the end of the previous chunks, copied to the start
   * of a reused buffer (the read buffer is reused too), where the next chunk's
   * complete lines are appended to it: a block costs a copy, not a fresh
   * 512 KB allocation (~2,000 per GB read, each page-faulted in and then left
   * to the GC and malloc).
   */
  let joined = Buffer.allocUnsafeSlow(0);
  let carried = 0;
  const reserve = (bytes: number): void => {
    if (bytes <= joined.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(bytes, joined.length * 2, BLOCK_BYTES + 64 * 1024));
    joined.copy(grown, 0, 0, carried);
    joined = grown;
  };
  for await (const chunk of readBlocks(path)) {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      reserve(carried + chunk.length);
      carried += chunk.copy(joined, carried);
      continue;
    }
    let head = chunk.subarray(0, last);
    if (carried > 0) {
      reserve(carried + last);
      chunk.copy(joined, carried, 0, last);
      head = joined.subarray(0, carried + last);
    }
    const block = new LineBlock(number, head, lineBounds(head));
    yield block;
    number += block.count;
    // The block is done with (its lines are valid until this generator resumes): its buffer takes the new open line.
    carried = 0;
    if (last + 1 < chunk.length) {
      reserve(chunk.length - last - 1);
      carried = chunk.copy(joined, 0, last + 1);
    }
  }
  if (carried > 0) {
    const rest = joined.subarray(0, carried);
    yield new LineBlock(number, rest, lineBounds(rest));
  }
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
