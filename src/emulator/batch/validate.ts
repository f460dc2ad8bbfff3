/**
 * Validates a batch input file while streaming it, like the real API: the
 * batch fails with `errors.data[]` naming line numbers. Memory: one Set of
 * custom_ids for the file.
 */
import type { BatchError } from 'openai/resources/batches';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { isBlank, readLineBlocks } from '../../read/lines.js';
import { estimateTextTokens, promptTokens } from '../engines/usage.js';

export interface InputLimits {
  maxRequestsPerFile: number;
  maxBytesPerFile: number;
}

export type ValidationResult =
  | { ok: true; total: number; model: string | undefined; estimatedTokens: number }
  | { ok: false; errors: BatchError[] };

const MAX_REPORTED_ERRORS = 100;

const error = (code: string, message: string, line: number | null, param: string | null = null): BatchError => ({
  code,
  message,
  line,
  param,
});

function estimateBodyTokens(body: Record<string, unknown>): number {
  if (Array.isArray(body['messages'])) return promptTokens(body['messages'] as ChatCompletionMessageParam[], estimateTextTokens);
  const input = body['input'] ?? body['prompt'];
  if (typeof input === 'string') return estimateTextTokens(input);
  if (Array.isArray(input)) return input.reduce<number>((sum, item) => sum + (typeof item === 'string' ? estimateTextTokens(item) : 1), 0);
  return 0;
}

/** Checks one parsed line; returns its error, if any. */
function checkRequest(request: unknown, number: number, endpoint: string): BatchError | undefined {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    return error('invalid_request', 'Each line must be a JSON object.', number);
  }
  const fields = request as Record<string, unknown>;
  if (typeof fields['custom_id'] !== 'string' || fields['custom_id'] === '') {
    return error('invalid_request', "Missing required parameter: 'custom_id'.", number, 'custom_id');
  }
  if (fields['method'] !== 'POST') return error('invalid_request', "'method' must be 'POST'.", number, 'method');
  if (typeof fields['url'] !== 'string') return error('invalid_request', "Missing required parameter: 'url'.", number, 'url');
  if (fields['url'] !== endpoint) {
    return error('url_mismatch', `The url ${JSON.stringify(fields['url'])} does not match the batch endpoint ${endpoint}.`, number, 'url');
  }
  const body = fields['body'];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return error('invalid_request', "Missing required parameter: 'body'.", number, 'body');
  }
  if (typeof (body as Record<string, unknown>)['model'] !== 'string') {
    return error('invalid_request', "Missing required parameter: 'body.model'.", number, 'body.model');
  }
  return undefined;
}

export async function validateInput(path: string, bytes: number, endpoint: string, limits: InputLimits): Promise<ValidationResult> {
  if (bytes > limits.maxBytesPerFile) {
    return {
      ok: false,
      errors: [error('file_too_large', `The input file is ${bytes} bytes; the limit is ${limits.maxBytesPerFile}.`, null)],
    };
  }
  const errors: BatchError[] = [];
  const seen = new Set<string>();
  let total = 0;
  let model: string | undefined;
  let estimatedTokens = 0;
  scan: for await (const block of readLineBlocks(path)) {
    for (let index = 0; index < block.count; index++) {
      const number = block.first + index;
      const text = block.line(index);
      if (isBlank(text)) continue;
      total += 1;
      if (total > limits.maxRequestsPerFile) {
        errors.push(error('too_many_tasks', `The input file has more than ${limits.maxRequestsPerFile} requests.`, number));
        break scan;
      }
      let request: unknown;
      try {
        request = JSON.parse(text);
      } catch {
        errors.push(error('invalid_json_line', 'This line is not parseable as valid JSON.', number));
        if (errors.length >= MAX_REPORTED_ERRORS) break scan;
        continue;
      }
      const problem = checkRequest(request, number, endpoint);
      if (problem) errors.push(problem);
      else {
        const { custom_id: customId, body } = request as { custom_id: string; body: Record<string, unknown> };
        const lineModel = body['model'] as string;
        if (seen.has(customId))
          errors.push(
            error('duplicate_custom_id', `The custom_id ${JSON.stringify(customId)} is used more than once.`, number, 'custom_id'),
          );
        else if (model !== undefined && lineModel !== model) {
          errors.push(
            error('model_mismatch', `The model ${lineModel} differs from ${model} used earlier in the file.`, number, 'body.model'),
          );
        }
        seen.add(customId);
        model ??= lineModel;
        estimatedTokens += estimateBodyTokens(body);
      }
      if (errors.length >= MAX_REPORTED_ERRORS) break scan;
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  if (total === 0) return { ok: false, errors: [error('empty_file', 'The input file is empty.', null)] };
  return { ok: true, total, model, estimatedTokens };
}
