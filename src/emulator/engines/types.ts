/** The interface every engine implements: one chat request in, one answer out. */
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';

export interface EngineUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface EngineAnswer {
  content: string;
  finish_reason: 'stop' | 'length';
  usage: EngineUsage;
}

export type Engine = (body: ChatCompletionCreateParams) => Promise<EngineAnswer>;

/** An engine failure that becomes an error line / HTTP error with this status. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = 'server_error',
  ) {
    super(message);
  }
}
