import { TransbatchError } from '../errors.js';
import { readTextChunks } from './source-file.js';
import type { DataRecord, SourceRecord } from './types.js';

/** `array`, `number`, `null`… for "expected a JSON object, got …" messages. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Parses one JSON text that must be an object, with file:line on failure. */
export function parseJsonObject(text: string, file: string, line: number): DataRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TransbatchError('input', `invalid JSON: ${(error as Error).message}`, { file, line });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TransbatchError('input', `expected a JSON object, got ${jsonTypeName(value)}`, { file, line });
  }
  return value as DataRecord;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/** One JSON object per line; blank lines are skipped but still counted. */
export async function* readJsonlRecords(path: string): AsyncGenerator<SourceRecord> {
  let index = 0;
  let line = 0;
  let carry = '';
  let first = true;
  const emit = (text: string): SourceRecord | undefined => {
    line++;
    if (isBlank(text)) return undefined;
    // JSON.parse accepts the trailing \r of CRLF as whitespace.
    return { index: index++, line, record: parseJsonObject(text, path, line) };
  };
  for await (let chunk of readTextChunks(path)) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    let start = 0;
    let newline = chunk.indexOf('\n');
    if (newline !== -1 && carry !== '') {
      const row = emit(carry + chunk.slice(0, newline));
      carry = '';
      if (row) yield row;
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    while (newline !== -1) {
      const row = emit(chunk.slice(start, newline));
      if (row) yield row;
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    carry += chunk.slice(start);
  }
  if (carry !== '') {
    const row = emit(carry);
    if (row) yield row;
  }
}
