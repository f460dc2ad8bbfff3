/**
 * collect, the pure part: what one line of a batch's output or error file
 * means for its request. ok answers still pass the configured checks;
 * 4xx (but 429) are permanent; 5xx, 429, expiry and failed checks are retried.
 */

import { parsePackedAnswer } from '../build/pack.js';
import { type CheckOptions, runChecks } from '../check/index.js';
import type { CheckName } from '../config/schema.js';
import type { RequestOutcome, ResultSource } from '../state/types.js';

export interface OutputLine {
  custom_id: string;
  response: { status_code: number; body: unknown } | null;
  error: { code: string | null; message: string | null } | null;
}

export type LineVerdict =
  | { kind: 'done'; content: string; finishReason: string | null; promptTokens: number; completionTokens: number }
  | { kind: 'retry' | 'rejected'; reason: string; detail: string; promptTokens: number; completionTokens: number }
  /** A packed answer that cannot be used: its cells are sent again one by one. */
  | { kind: 'fallback'; reason: string; detail: string; promptTokens: number; completionTokens: number };

/** What was sent: the text (a packed request's JSON object of texts), its language, and whether it was packed. */
export interface SentRequest {
  text: string;
  lang: string;
  packed?: boolean;
}

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

export function classifyLine(line: OutputLine, sent: SentRequest, context: ClassifyContext): LineVerdict {
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
    const failed = sent.packed
      ? checkPacked(sent, content, finishReason, context)
      : checkOne(sent.text, content, finishReason, sent.lang, context);
    if (failed) return { ...failed, ...usage };
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

type Failure = { kind: 'retry' | 'fallback'; reason: string; detail: string };

function checkOne(sent: string, answer: string, finishReason: string | null, lang: string, context: ClassifyContext): Failure | undefined {
  const subject = { sent, answer, finishReason, lang, ...(context.sourceLang ? { sourceLang: context.sourceLang } : {}) };
  const verdict = runChecks(subject, context.checks, context.checkOptions);
  return verdict.ok ? undefined : { kind: 'retry', reason: `check:${verdict.check}`, detail: verdict.detail };
}

/** A packed answer: the same keys, each value a string that passes the checks on its own. */
function checkPacked(sent: SentRequest, answer: string, finishReason: string | null, context: ClassifyContext): Failure | undefined {
  if (finishReason === 'length' && context.checks.includes('not_truncated')) {
    return { kind: 'retry', reason: 'check:not_truncated', detail: 'the packed answer was cut off (finish_reason: length)' };
  }
  const texts = JSON.parse(sent.text) as Record<string, string>;
  const parsed = parsePackedAnswer(answer, Object.keys(texts));
  if (!parsed.ok) return { kind: 'fallback', reason: 'pack_invalid', detail: parsed.detail };
  for (const [key, text] of Object.entries(texts)) {
    const failed = checkOne(text, parsed.values[key]!, finishReason, sent.lang, context);
    if (failed) return { ...failed, detail: `${key}: ${failed.detail}` };
  }
  return undefined;
}

/**
 * What a verdict does to its request after `attempts` sends: retried while
 * attempts remain, else rejected — or, for a packed request, replaced by
 * one request per cell, which then get attempts of their own.
 */
export function settleVerdict(
  verdict: LineVerdict,
  attempts: number,
  maxAttempts: number,
  source: ResultSource,
  packed: boolean,
): RequestOutcome | Extract<LineVerdict, { kind: 'fallback' }> {
  if (verdict.kind === 'done') return { ...verdict, source };
  if (verdict.kind === 'fallback') return verdict;
  if (verdict.kind === 'retry' && attempts < maxAttempts) return verdict;
  const detail = verdict.kind === 'retry' ? `${verdict.detail} (after ${attempts} attempts)` : verdict.detail;
  if (packed) return { ...verdict, kind: 'fallback', detail };
  return { ...verdict, kind: 'rejected', detail };
}
