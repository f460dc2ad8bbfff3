/** Builds the wire objects of chat and legacy completions from an engine answer. */

import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { Completion } from 'openai/resources/completions';
import type { EngineAnswer } from './engines/types.js';

export const SYSTEM_FINGERPRINT = 'fp_transbatch_emulator';

export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export function chatCompletion(identity: CompletionIdentity, answer: EngineAnswer): ChatCompletion {
  return {
    id: `chatcmpl-${identity.id}`,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: answer.content, refusal: null },
        finish_reason: answer.finish_reason,
        logprobs: null,
      },
    ],
    usage: answer.usage,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

export function textCompletion(identity: CompletionIdentity, answer: EngineAnswer): Completion {
  return {
    id: `cmpl-${identity.id}`,
    object: 'text_completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, text: answer.content, finish_reason: answer.finish_reason, logprobs: null }],
    usage: answer.usage,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** Cuts an answer in half as if the token limit had been hit. */
export function truncateAnswer(answer: EngineAnswer): EngineAnswer {
  const completion = Math.max(1, Math.floor(answer.usage.completion_tokens / 2));
  return {
    content: answer.content.slice(0, Math.floor(answer.content.length / 2)),
    finish_reason: 'length',
    usage: { ...answer.usage, completion_tokens: completion, total_tokens: answer.usage.prompt_tokens + completion },
  };
}
