/** Streams a JSONL file as numbered lines (1-based, as the API reports them). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface NumberedLine {
  number: number;
  text: string;
}

export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  try {
    for await (const text of lines) {
      number += 1;
      yield { number, text };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

export const isBlank = (text: string): boolean => text.trim() === '';
