import { describe, expect, it } from 'vitest';
import { assertValid, translateNullable, validateSchema } from '../helpers/openapi.js';

describe('validateSchema', () => {
  it('accepts a minimal valid Batch and rejects a wrong status', () => {
    const batch = {
      id: 'batch_abc',
      object: 'batch',
      endpoint: '/v1/chat/completions',
      input_file_id: 'file-abc',
      completion_window: '24h',
      status: 'validating',
      created_at: 1_700_000_000,
      request_counts: { total: 0, completed: 0, failed: 0 },
    };
    expect(validateSchema('Batch', batch)).toEqual([]);
    expect(validateSchema('Batch', { ...batch, status: 'done' }).join('\n')).toMatch(/status/);
  });

  it('follows $refs (BatchRequestCounts inside Batch)', () => {
    const errors = validateSchema('Batch', {
      id: 'b',
      object: 'batch',
      endpoint: 'x',
      input_file_id: 'f',
      completion_window: '24h',
      status: 'completed',
      created_at: 1,
      request_counts: { total: 1 },
    });
    expect(errors.join('\n')).toMatch(/request_counts.*completed/);
  });

  it('translates nullable legacy schemas: BatchRequestOutput accepts null response/error', () => {
    expect(validateSchema('BatchRequestOutput', { id: 'r', custom_id: 'c', response: null, error: { code: 'x', message: 'y' } })).toEqual(
      [],
    );
    expect(validateSchema('BatchRequestOutput', { id: 'r', custom_id: 'c', response: 'nope', error: null })).not.toEqual([]);
    expect(translateNullable({ type: 'object', nullable: true })).toEqual({ type: ['object', 'null'] });
  });

  it('assertValid throws with the errors, and unknown names throw', () => {
    expect(() => assertValid('OpenAIFile', { id: 'file-1' })).toThrow(/OpenAIFile is invalid/);
    expect(() => validateSchema('NoSuchSchema', {})).toThrow(/unknown schema/);
  });
});
