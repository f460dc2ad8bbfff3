/**
 * Shared logic of the local engines (pseudo, echo): take the last user message,
 * transform it (per string value in JSON mode), honour the token limit and
 * report realistic usage.
 */
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { EngineAnswer } from './types.js';
import { countTextTokens, messageText, promptTokens } from './usage.js';

function lastUserText(body: ChatCompletionCreateParams): string {
  for (let index = body.messages.length - 1; index >= 0; index -= 1) {
    const message = body.messages[index];
    if (message?.role === 'user') return messageText(message);
  }
  return '';
}

function mapStrings(value: unknown, transform: (text: string) => string): unknown {
  if (typeof value === 'string') return transform(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, transform));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, transform)]));
  }
  return value;
}

/** In JSON mode the user content is a JSON object of strings: answer the same keys, transformed. */
function transformContent(text: string, jsonMode: boolean, transform: (text: string) => string): string {
  if (!jsonMode) return transform(text);
  try {
    return JSON.stringify(mapStrings(JSON.parse(text), transform));
  } catch {
    return JSON.stringify({ text: transform(text) });
  }
}

/** Usage is the cheap deterministic estimate of `usage.ts` (per message, plus chat overheads). */
export function answerLocally(
  body: ChatCompletionCreateParams,
  transform: (text: string) => string,
  countCompletion: (text: string) => number = countTextTokens,
): EngineAnswer {
  const format = body.response_format?.type;
  let content = transformContent(lastUserText(body), format === 'json_schema' || format === 'json_object', transform);
  const prompt = promptTokens(body.messages);
  let completion = countCompletion(content);
  let finishReason: EngineAnswer['finish_reason'] = 'stop';
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (typeof limit === 'number' && completion > limit) {
    content = content.slice(0, Math.floor((content.length * limit) / completion));
    completion = limit;
    finishReason = 'length';
  }
  return {
    content,
    finish_reason: finishReason,
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}
