/**
 * Answers one API request (chat, legacy completion or embeddings) with the
 * configured engine and the per-request faults. Shared by batch processing and
 * the synchronous endpoints so both behave the same.
 */
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { chatCompletion, textCompletion, truncateAnswer } from './completion.js';
import { createEmbeddings } from './embeddings.js';
import { type Engine, EngineError } from './engines/types.js';
import type { FaultState } from './fault-state.js';
import { ApiError } from './http/errors.js';

export type BatchEndpoint = '/v1/chat/completions' | '/v1/embeddings' | '/v1/completions';
export const BATCH_ENDPOINTS: readonly BatchEndpoint[] = ['/v1/chat/completions', '/v1/embeddings', '/v1/completions'];

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export type Answer =
  | { status: 200; body: object; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { status: number; body: ErrorBody };

export interface RequestIdentity {
  id: string;
  created: number;
  customId?: string | undefined;
}

function errorAnswer(
  status: number,
  message: string,
  code: string,
  type = status >= 500 ? 'server_error' : 'invalid_request_error',
): Answer {
  return { status, body: { error: { message, type, param: null, code } } };
}

export class Responder {
  constructor(
    private readonly engine: Engine,
    private readonly faults: FaultState,
  ) {}

  async answer(url: BatchEndpoint, body: Record<string, unknown>, identity: RequestIdentity): Promise<Answer> {
    const fault = this.faults.requestFault(identity.customId);
    if (fault.kind === 'error') {
      return fault.status === 500
        ? errorAnswer(500, 'The server had an error processing your request (injected fault).', 'server_error')
        : errorAnswer(400, 'Invalid request (injected fault).', 'invalid_request');
    }
    try {
      if (url === '/v1/embeddings') {
        const response = createEmbeddings(body);
        return { status: 200, body: response, usage: { prompt_tokens: response.usage.prompt_tokens, completion_tokens: 0 } };
      }
      const model = typeof body['model'] === 'string' ? body['model'] : 'unknown';
      const chatBody =
        url === '/v1/completions'
          ? ({ ...body, messages: [{ role: 'user', content: String(body['prompt'] ?? '') }] } as unknown as ChatCompletionCreateParams)
          : (body as unknown as ChatCompletionCreateParams);
      if (!Array.isArray(chatBody.messages))
        return errorAnswer(400, "Missing required parameter: 'messages'.", 'missing_required_parameter');
      let answer = await this.engine(chatBody);
      if (fault.kind === 'truncate') answer = truncateAnswer(answer);
      const ids = { id: identity.id, created: identity.created, model };
      const response = url === '/v1/completions' ? textCompletion(ids, answer) : chatCompletion(ids, answer);
      return { status: 200, body: response, usage: answer.usage };
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, body: error.toBody() };
      if (error instanceof EngineError) return errorAnswer(error.status, error.message, error.code);
      return errorAnswer(500, `engine failed: ${(error as Error).message}`, 'server_error');
    }
  }
}
