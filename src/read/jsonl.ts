import { TransbatchError } from '../errors.js';
import { readLineBlocks } from './lines.js';
import { cannotRead } from './source-file.js';
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

/**
 * One JSON object per line; blank lines are skipped but still counted. Lines
 * come from `readLineBlocks` (one reused read buffer, each line decoded on its
 * own, so one non-ASCII line does not make its neighbours two-byte strings).
 */
export async function* readJsonlRecords(path: string): AsyncGenerator<SourceRecord> {
  let index = 0;
  try {
    for await (const block of readLineBlocks(path)) {
      for (let offset = 0; offset < block.count; offset++) {
        let text = block.line(offset);
        const line = block.first + offset;
        if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        if (isBlank(text)) continue;
        yield { index: index++, line, record: parseJsonObject(text, path, line) };
      }
    }
  } catch (error) {
    if (error instanceof TransbatchError) throw error;
    throw cannotRead(path, error);
  }
}
