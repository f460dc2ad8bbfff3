/**
 * Token counts for realistic `usage`, estimated cheaply and deterministically:
 * exact counting (gpt-tokenizer) cost more CPU than everything else the
 * emulator does for a batch line. The estimate is the one `prepare` uses for
 * budgets (`approximateTokens`). Chat adds 3 tokens per message and 3 to
 * prime the answer, as OpenAI's own counting guide does.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { approximateTokens } from '../../split/tokens.js';

const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

export const countTextTokens = approximateTokens;

/** Same estimate, kept as its own name for queue accounting during validation. */
export const estimateTextTokens = countTextTokens;

export function messageText(message: ChatCompletionMessageParam): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) if (part.type === 'text') text += part.text;
  return text;
}

export function promptTokens(messages: readonly ChatCompletionMessageParam[], count: (text: string) => number = countTextTokens): number {
  let total = REPLY_PRIMING;
  for (const message of messages) total += TOKENS_PER_MESSAGE + count(messageText(message));
  return total;
}
