/**
 * Streams a JSONL file as numbered lines (1-based, as the API reports them),
 * a block of lines per read chunk: each 64 KB chunk is cut after its last
 * `\n` (a byte that never occurs inside a multi-byte UTF-8 character), decoded
 * once and split natively, so there is one decode and one await per block
 * instead of per line. The file is only read as fast as blocks are consumed,
 * so memory stays bounded by a chunk plus one partial line.
 */
import { createReadStream } from 'node:fs';

export interface NumberedLine {
  number: number;
  text: string;
}

export interface LineBlock {
  /** The number of `lines[0]`. */
  first: number;
  lines: string[];
}

const NEWLINE = 0x0a;

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.includes('\r')) for (let index = 0; index < lines.length; index++) lines[index] = (lines[index] as string).replace(/\r$/, '');
  return lines;
}

export async function* readLineBlocks(path: string): AsyncGenerator<LineBlock> {
  let number = 1;
  /** Bytes of the line still open at the end of the previous chunks. */
  let carry: Buffer[] = [];
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry.push(chunk);
      continue;
    }
    const head = carry.length === 0 ? chunk.subarray(0, last) : Buffer.concat([...carry, chunk.subarray(0, last)]);
    carry = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    const lines = splitLines(head.toString('utf8'));
    yield { first: number, lines };
    number += lines.length;
  }
  if (carry.length > 0) {
    const rest = Buffer.concat(carry).toString('utf8');
    yield { first: number, lines: splitLines(rest) };
  }
}

export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  for await (const block of readLineBlocks(path)) {
    for (let index = 0; index < block.lines.length; index++) yield { number: block.first + index, text: block.lines[index] as string };
  }
}

/** Blank (whitespace only); a line starting with `{` is decided without scanning it. */
export function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  if (first === 0x7b) return false;
  return text.trim() === '';
}
