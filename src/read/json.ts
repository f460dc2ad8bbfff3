import { TransbatchError } from '../errors.js';
import { parseJsonObject } from './jsonl.js';
import { readTextChunks } from './source-file.js';
import type { SourceRecord } from './types.js';

const BEFORE_ARRAY = 0;
const IN_ARRAY = 1;
const AFTER_ARRAY = 2;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;
const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/**
 * Streams the objects of a top-level JSON array without parsing the whole
 * file: a scanner tracks string/escape state and nesting depth to cut each
 * element out, then JSON.parse reads just that element.
 */
export async function* readJsonArrayRecords(path: string): AsyncGenerator<SourceRecord> {
  const fail = (message: string, line: number): never => {
    throw new TransbatchError('input', message, { file: path, line });
  };
  let where: number = BEFORE_ARRAY;
  let line = 1;
  let index = 0;
  // Current element: its text so far (from earlier chunks), where it starts.
  let inElement = false;
  let pieces = '';
  let elementLine = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let afterComma = false;

  for await (const chunk of readTextChunks(path)) {
    let start = 0;
    const length = chunk.length;
    let nextBackslash = -1;
    for (let i = 0; i < length; i++) {
      if (inString) {
        // Jump over string contents with indexOf; JSON strings hold no raw newlines.
        if (escaped) {
          escaped = false;
          continue;
        }
        if (nextBackslash < i) {
          nextBackslash = chunk.indexOf('\\', i);
          if (nextBackslash === -1) nextBackslash = length;
        }
        let quote = chunk.indexOf('"', i);
        if (quote === -1) quote = length;
        if (nextBackslash < quote) {
          i = nextBackslash;
          escaped = true;
        } else if (quote === length) {
          break;
        } else {
          i = quote;
          inString = false;
        }
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === LF) line++;
      if (where === IN_ARRAY) {
        if (!inElement) {
          if (isSpace(c)) continue;
          if (c === COMMA) fail('expected a value before ","', line);
          if (c === CLOSE_BRACKET) {
            if (afterComma) fail('expected a value after "," (trailing comma)', line);
            where = AFTER_ARRAY;
            continue;
          }
          inElement = true;
          start = i;
          elementLine = line;
        }
        let ends = false;
        if (c === QUOTE) inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          if (depth > 0) depth--;
          else if (c === CLOSE_BRACKET)
            ends = true; // the array's own "]"
          else fail('unexpected "}"', line);
        } else if (c === COMMA && depth === 0) ends = true;
        if (ends) {
          const text = pieces + chunk.slice(start, i);
          pieces = '';
          inElement = false;
          afterComma = c === COMMA;
          if (c === CLOSE_BRACKET) where = AFTER_ARRAY;
          yield { index: index++, line: elementLine, record: parseJsonObject(text, path, elementLine) };
        }
      } else if (where === BEFORE_ARRAY) {
        if (isSpace(c) || (c === BOM && line === 1)) continue;
        if (c !== OPEN_BRACKET) fail(`expected a JSON array at the top level, got ${JSON.stringify(chunk[i])}`, line);
        where = IN_ARRAY;
      } else if (!isSpace(c)) {
        fail(`unexpected ${JSON.stringify(chunk[i])} after the end of the JSON array`, line);
      }
    }
    if (inElement) pieces += chunk.slice(start);
  }
  if (where === BEFORE_ARRAY) fail('expected a JSON array, the file is empty', line);
  if (where === IN_ARRAY) fail('unexpected end of file: the JSON array is not closed', inElement ? elementLine : line);
}
