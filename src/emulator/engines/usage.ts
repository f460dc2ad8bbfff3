/**
 * Token counts for realistic `usage`. Exact (gpt-tokenizer, o200k) for texts up
 * to a few KB; longer texts use a chars/4 estimate because exact counting of
 * big payloads would dominate the batch hot path.
 */
import { countTokens } from 'gpt-tokenizer';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

const EXACT_LIMIT_CHARS = 4096;
const TOKENS_PER_MESSAGE = 4;

export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length > EXACT_LIMIT_CHARS) return Math.ceil(text.length / 4);
  return countTokens(text);
}

/** Cheap estimate, for queue accounting during validation. */
export const estimateTextTokens = (text: string): number => Math.ceil(text.length / 4);

export function messageText(message: ChatCompletionMessageParam): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) if (part.type === 'text') text += part.text;
  return text;
}

export function promptTokens(messages: readonly ChatCompletionMessageParam[], count: (text: string) => number = countTextTokens): number {
  let total = 3;
  for (const message of messages) total += TOKENS_PER_MESSAGE + count(messageText(message));
  return total;
}
