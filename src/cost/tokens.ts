/** Token estimates for requests, from gpt-tokenizer's o200k_base counts. */
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { countTokens } from '../split/tokens.js';

/** Per-message and per-reply overheads of the chat format (OpenAI's published rule of thumb). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;

/**
 * Input tokens of a chat request. The system prompt and few-shot messages
 * repeat across requests, so their counts are memoised; `knownUserTokens`
 * saves counting the last user message again when the caller already did.
 */
export function requestInputTokens(body: ChatCompletionCreateParamsNonStreaming, knownUserTokens?: number): number {
  let tokens = TOKENS_PER_REPLY;
  const last = body.messages.length - 1;
  body.messages.forEach((message, index) => {
    tokens += TOKENS_PER_MESSAGE;
    if (typeof message.content !== 'string') return;
    if (index === last && knownUserTokens !== undefined) tokens += knownUserTokens;
    else if (index === last) tokens += countTokens(message.content);
    else tokens += repeatedTokens(message.content);
  });
  return tokens;
}

const repeated = new Map<string, number>();
const REPEATED_LIMIT = 4096;

function repeatedTokens(text: string): number {
  let count = repeated.get(text);
  if (count === undefined) {
    count = countTokens(text);
    if (repeated.size >= REPEATED_LIMIT) repeated.clear();
    repeated.set(text, count);
  }
  return count;
}

/**
 * How many output tokens a translation into `lang` takes per source token.
 * Rough figures for o200k_base from English; `cost.output_ratio` overrides them.
 */
const DEFAULT_OUTPUT_RATIO: Record<string, number> = {
  en: 1.0,
  de: 1.25,
  fr: 1.25,
  es: 1.2,
  it: 1.25,
  pt: 1.2,
  nl: 1.25,
  ru: 1.35,
  uk: 1.4,
  pl: 1.4,
  tr: 1.4,
  ar: 1.3,
  hi: 1.4,
  ja: 1.2,
  ko: 1.25,
  zh: 1.0,
  vi: 1.3,
  th: 1.4,
};

export function outputRatio(lang: string, overrides: Readonly<Record<string, number>>): number {
  const primary = lang.split('-')[0]!.toLowerCase();
  return overrides[lang] ?? overrides[primary] ?? DEFAULT_OUTPUT_RATIO[primary] ?? 1.3;
}
