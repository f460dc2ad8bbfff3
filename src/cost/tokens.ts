/** Token estimates for requests, from gpt-tokenizer's o200k_base counts. */
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { countTokens } from '../split/tokens.js';

/** Per-message and per-reply overheads of the chat format (OpenAI's published rule of thumb). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;

export function requestInputTokens(body: ChatCompletionCreateParamsNonStreaming): number {
  let tokens = TOKENS_PER_REPLY;
  for (const message of body.messages) {
    tokens += TOKENS_PER_MESSAGE;
    if (typeof message.content === 'string') tokens += countTokens(message.content);
  }
  return tokens;
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
