/**
 * Build: one chat-completion request per translation unit, in OpenAI's batch
 * input format. Bodies are deterministic (same config + text → same bytes),
 * which makes custom_ids, dedupe and the response cache line up.
 */
import { createHash } from 'node:crypto';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { buildMessages, type PromptSettings } from './prompt.js';

export const CHAT_COMPLETIONS_URL = '/v1/chat/completions';

export interface RequestSettings {
  model: string;
  /** Extra body params from `request:` in the config (temperature, max_tokens, …). */
  params: Readonly<Record<string, unknown>>;
  prompt: PromptSettings;
}

export interface UnitText {
  text: string;
  lang: string;
  field: string;
}

export function buildRequestBody(settings: RequestSettings, unit: UnitText): ChatCompletionCreateParamsNonStreaming {
  return { model: settings.model, messages: buildMessages(settings.prompt, unit), ...settings.params };
}

/** One line of a batch input file (no trailing newline). */
export function batchLine(customId: string, bodyJson: string): string {
  return `{"custom_id":${JSON.stringify(customId)},"method":"POST","url":"${CHAT_COMPLETIONS_URL}","body":${bodyJson}}`;
}

/**
 * Key of a request for dedupe and the response cache: a versioned hash of the
 * endpoint and body. Bump the version when the meaning of a cached answer changes.
 */
export function requestKey(bodyJson: string): Buffer {
  return createHash('sha256')
    .update('transbatch-request-v1\n')
    .update(CHAT_COMPLETIONS_URL)
    .update('\n')
    .update(bodyJson)
    .digest()
    .subarray(0, 16);
}
