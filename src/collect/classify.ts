/**
 * collect, the pure part: what one line of a batch's output or error file
 * means for its request. ok answers still pass the configured checks;
 * 4xx (but 429) are permanent; 5xx, 429, expiry and failed checks are retried.
 */

import { type CheckOptions, runChecks } from '../check/index.js';
import type { CheckName } from '../config/schema.js';

export interface OutputLine {
  custom_id: string;
  response: { status_code: number; body: unknown } | null;
  error: { code: string | null; message: string | null } | null;
}

export type LineVerdict =
  | { kind: 'done'; content: string; finishReason: string | null; promptTokens: number; completionTokens: number }
  | { kind: 'retry' | 'rejected'; reason: string; detail: string; promptTokens: number; completionTokens: number };

export interface ClassifyContext {
  checks: readonly CheckName[];
  checkOptions: CheckOptions;
  /** The configured source language, when set (else the checks detect it). */
  sourceLang?: string;
}

interface ChatBody {
  choices?: { message?: { content?: string | null; refusal?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string; code?: string | null; type?: string };
}

export function parseOutputLine(text: string): OutputLine | undefined {
  try {
    const value = JSON.parse(text) as Partial<OutputLine>;
    if (typeof value?.custom_id !== 'string') return undefined;
    return { custom_id: value.custom_id, response: value.response ?? null, error: value.error ?? null };
  } catch {
    return undefined;
  }
}

export function classifyLine(line: OutputLine, sent: { text: string; lang: string }, context: ClassifyContext): LineVerdict {
  const body = (line.response?.body ?? {}) as ChatBody;
  const usage = { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0 };
  const status = line.response?.status_code;
  if (status === 200) {
    const choice = body.choices?.[0];
    const content = choice?.message?.content;
    const finishReason = choice?.finish_reason ?? null;
    if (choice?.message?.refusal) return { kind: 'rejected', reason: 'refusal', detail: choice.message.refusal, ...usage };
    if (finishReason === 'content_filter')
      return { kind: 'rejected', reason: 'content_filter', detail: 'the answer was filtered', ...usage };
    if (typeof content !== 'string')
      return { kind: 'retry', reason: 'invalid_response', detail: 'no message content in the answer', ...usage };
    const subject = {
      sent: sent.text,
      answer: content,
      finishReason,
      lang: sent.lang,
      ...(context.sourceLang ? { sourceLang: context.sourceLang } : {}),
    };
    const verdict = runChecks(subject, context.checks, context.checkOptions);
    if (!verdict.ok) return { kind: 'retry', reason: `check:${verdict.check}`, detail: verdict.detail, ...usage };
    return { kind: 'done', content, finishReason, ...usage };
  }
  if (status !== undefined) {
    const detail = body.error?.message ?? `HTTP ${status}`;
    const permanent = status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
    return { kind: permanent ? 'rejected' : 'retry', reason: `http_${status}`, detail, ...usage };
  }
  const code = line.error?.code ?? 'error';
  return { kind: 'retry', reason: code, detail: line.error?.message ?? code, ...usage };
}
