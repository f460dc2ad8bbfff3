/**
 * Packing (`split.pack: row`): one request per (row, language) carrying all
 * its short cells as a JSON object, answered under a strict JSON schema with
 * the same keys. One system prompt per row instead of one per cell is where
 * the savings come from; answers are verified key by key on return.
 */
import type { RequestSettings } from './request.js';

const PACK_INSTRUCTIONS = [
  'The user message is a JSON object whose values are separate texts to translate.',
  'Answer with a JSON object that has exactly the same keys, each value the translation of that key’s text, following every rule above.',
  'Never translate, add, drop or merge keys.',
].join(' ');

/** The request settings of packed requests: the pack instructions after the system prompt. */
export function packedRequestSettings(settings: RequestSettings): RequestSettings {
  return { ...settings, prompt: { ...settings.prompt, system: `${settings.prompt.system}\n\n${PACK_INSTRUCTIONS}` } };
}

export function packedUserContent(texts: ReadonlyArray<readonly [key: string, text: string]>): string {
  return JSON.stringify(Object.fromEntries(texts));
}

/** `,"response_format":{…}` for the body: a strict schema naming every key. */
export function packedResponseFormatTail(keys: readonly string[]): string {
  const properties = Object.fromEntries(keys.map((key) => [key, { type: 'string' }]));
  const format = {
    type: 'json_schema',
    json_schema: {
      name: 'translations',
      strict: true,
      schema: { type: 'object', properties, required: keys, additionalProperties: false },
    },
  };
  return `,"response_format":${JSON.stringify(format)}`;
}

export type PackedAnswer = { ok: true; values: Record<string, string> } | { ok: false; detail: string };

/** Parses a packed answer and checks it has exactly the sent keys, each a string. */
export function parsePackedAnswer(answer: string, sentKeys: readonly string[]): PackedAnswer {
  let value: unknown;
  try {
    value = JSON.parse(answer);
  } catch {
    return { ok: false, detail: 'the answer is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, detail: 'the answer is not a JSON object' };
  const values = value as Record<string, unknown>;
  const missing = sentKeys.filter((key) => !Object.hasOwn(values, key));
  const extra = Object.keys(values).filter((key) => !sentKeys.includes(key));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `unexpected ${extra.join(', ')}` : ''];
    return { ok: false, detail: `keys do not match: ${parts.filter(Boolean).join('; ')}` };
  }
  const notString = sentKeys.find((key) => typeof values[key] !== 'string');
  if (notString !== undefined) return { ok: false, detail: `the value of ${notString} is not a string` };
  return { ok: true, values: values as Record<string, string> };
}
