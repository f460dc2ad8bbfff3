/**
 * Forwards each request to an OpenAI-compatible chat endpoint (Ollama, vLLM,
 * another emulator…) with the official SDK: bounded concurrency, SDK retries,
 * the upstream's real usage.
 */
import OpenAI from 'openai';
import pLimit from 'p-limit';
import { type Engine, EngineError } from './types.js';

export interface UpstreamOptions {
  baseURL: string;
  apiKey?: string;
  concurrency?: number;
  maxRetries?: number;
}

export function createUpstreamEngine(options: UpstreamOptions): Engine {
  const client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey ?? 'unused', maxRetries: options.maxRetries ?? 3 });
  const limit = pLimit(options.concurrency ?? 4);
  return (body) =>
    limit(async () => {
      let completion: OpenAI.ChatCompletion;
      try {
        completion = await client.chat.completions.create({ ...body, stream: false });
      } catch (error) {
        if (error instanceof OpenAI.APIError)
          throw new EngineError(error.status ?? 502, `upstream: ${error.message}`, error.code ?? 'upstream_error');
        throw new EngineError(502, `upstream unreachable: ${(error as Error).message}`, 'upstream_error');
      }
      const choice = completion.choices[0];
      const usage = completion.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
      return {
        content: choice?.message.content ?? '',
        finish_reason: choice?.finish_reason === 'length' ? 'length' : 'stop',
        usage: { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens },
      };
    });
}
