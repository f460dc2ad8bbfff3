/**
 * Streams a JSONL file as numbered lines (1-based, as the API reports them).
 * Splits raw chunks on `\n` itself instead of using readline, whose async
 * iterator queues lines ahead of a slow consumer: here the file is only read
 * as fast as lines are consumed, so memory stays bounded.
 */
import { createReadStream } from 'node:fs';

export interface NumberedLine {
  number: number;
  text: string;
}

const NEWLINE = 0x0a;

function decode(parts: Buffer[]): string {
  const text = (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)).toString('utf8');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  let number = 0;
  let pending: Buffer[] = [];
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      pending.push(chunk.subarray(start, newline));
      number += 1;
      yield { number, text: decode(pending) };
      pending = [];
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) {
    number += 1;
    yield { number, text: decode(pending) };
  }
}

export const isBlank = (text: string): boolean => text.trim() === '';
