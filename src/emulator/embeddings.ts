/** Deterministic hash-seeded embedding vectors with realistic usage. */
import { createHash } from 'node:crypto';
import type { CreateEmbeddingResponse, Embedding } from 'openai/resources/embeddings';
import { countTextTokens } from './engines/usage.js';
import { badRequest } from './http/errors.js';

function defaultDimensions(model: string): number {
  return model.includes('large') ? 3072 : 1536;
}

/** Unit vector from an xorshift stream seeded by the text's hash. */
export function embedText(text: string, dimensions: number): Float32Array {
  const seed = createHash('sha256').update(text).digest();
  let state = seed.readUInt32LE(0) || 1;
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const value = ((state >>> 0) / 0xffffffff) * 2 - 1;
    vector[index] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let index = 0; index < dimensions; index += 1) vector[index] = (vector[index] ?? 0) * scale;
  return vector;
}

function inputsOf(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) {
    if (input.every((item) => typeof item === 'string')) return input as string[];
    if (input.every((item) => typeof item === 'number')) return [(input as number[]).join(' ')];
    if (input.every((item) => Array.isArray(item))) return (input as number[][]).map((tokens) => tokens.join(' '));
  }
  throw badRequest("'input' must be a non-empty string, array of strings or array of token arrays.", 'input');
}

export function createEmbeddings(body: Record<string, unknown>): CreateEmbeddingResponse {
  const model = typeof body['model'] === 'string' ? body['model'] : '';
  if (model === '') throw badRequest('you must provide a model parameter', 'model');
  const dimensions = typeof body['dimensions'] === 'number' ? body['dimensions'] : defaultDimensions(model);
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 3072) throw badRequest('Invalid dimensions.', 'dimensions');
  const base64 = body['encoding_format'] === 'base64';
  const texts = inputsOf(body['input']);
  let tokens = 0;
  const data = texts.map((text, index): Embedding => {
    tokens += countTextTokens(text);
    const vector = embedText(text, dimensions);
    // The SDK asks for base64 by default and decodes it to number[].
    const embedding = base64 ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector);
    return { object: 'embedding', index, embedding: embedding as unknown as number[] };
  });
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
