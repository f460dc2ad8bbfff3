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

/**
 * The estimate of the last few system/developer prompts: every line of a
 * batch repeats the same one (hundreds of characters), counted at validation
 * and again when answered. Comparing a string is a memcmp, counting it a
 * per-character loop.
 */
const instructionCounts = new Map<string, number>();
const MAX_REMEMBERED_INSTRUCTIONS = 16;
let lastInstruction = { text: '', tokens: 0 };

function countInstruction(text: string): number {
  if (text === lastInstruction.text) return lastInstruction.tokens;
  let tokens = instructionCounts.get(text);
  if (tokens === undefined) {
    tokens = countTextTokens(text);
    if (instructionCounts.size >= MAX_REMEMBERED_INSTRUCTIONS) instructionCounts.clear();
    instructionCounts.set(text, tokens);
  }
  lastInstruction = { text, tokens };
  return tokens;
}

export function promptTokens(messages: readonly ChatCompletionMessageParam[], count: (text: string) => number = countTextTokens): number {
  let total = REPLY_PRIMING;
  for (const message of messages) {
    const text = messageText(message);
    const instruction = count === countTextTokens && (message.role === 'system' || message.role === 'developer');
    total += TOKENS_PER_MESSAGE + (instruction ? countInstruction(text) : count(text));
  }
  return total;
}
