/**
 * Synchronous inference endpoints: the same engine and per-request faults as
 * batches, plus what direct calls meet on the real API: latency
 * (`timing.syncMs`, fault plan `sync_latency_ms`; calls wait in parallel) and
 * rpm/tpm limits on chat calls (429 with `Retry-After`, `x-ratelimit-*` headers).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { estimateTextTokens, promptTokens } from '../engines/usage.js';
import { ApiError, badRequest } from '../http/errors.js';
import { nowSeconds, readJsonBody, sendJson } from '../http/io.js';
import type { BatchEndpoint } from '../responder.js';
import type { RouteContext } from './context.js';

/** The header the sync sender puts its custom_id in (src/sync/sync-loop.ts). */
export const CUSTOM_ID_HEADER = 'x-transbatch-custom-id';

function customIdOf(body: Record<string, unknown>, headers: IncomingHttpHeaders): string | undefined {
  const metadata = body['metadata'];
  if (metadata !== null && typeof metadata === 'object') {
    const value = (metadata as Record<string, unknown>)['custom_id'];
    if (typeof value === 'string') return value;
  }
  const header = headers[CUSTOM_ID_HEADER];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** What OpenAI counts against tpm: the prompt estimate plus the requested completion budget. */
function requestTokens(body: Record<string, unknown>): number {
  const messages = Array.isArray(body['messages']) ? (body['messages'] as ChatCompletionMessageParam[]) : [];
  const budget = body['max_completion_tokens'] ?? body['max_tokens'];
  return promptTokens(messages, estimateTextTokens) + (typeof budget === 'number' && budget > 0 ? budget : 0);
}

async function latency(context: RouteContext): Promise<void> {
  const ms = context.deps.settings.syncLatencyMs;
  if (ms <= 0) return;
  const aborted = new AbortController();
  context.res.once('close', () => aborted.abort());
  context.deps.hangs.add(aborted);
  await sleep(ms, undefined, { signal: aborted.signal }).catch(() => undefined);
  context.deps.hangs.delete(aborted);
}

export function inferenceRoute(endpoint: BatchEndpoint) {
  return async (context: RouteContext): Promise<void> => {
    const { req, res, deps, note } = context;
    const body = await readJsonBody(req);
    if ((typeof body['model'] !== 'string' || body['model'] === '') && note.deployment !== undefined) body['model'] = note.deployment;
    if (typeof body['model'] !== 'string' || body['model'] === '') throw badRequest("Missing required parameter: 'model'.", 'model');
    if (body['stream'] === true) throw badRequest('Streaming is not supported by the emulator.', 'stream');
    const customId = customIdOf(body, req.headers);
    if (customId !== undefined) note.customId = customId;

    let headers: Record<string, string> = {};
    if (endpoint === '/v1/chat/completions' && deps.rateLimits.enabled) {
      const decision = deps.rateLimits.take(requestTokens(body));
      headers = decision.headers;
      if (!decision.ok) {
        const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        deps.emit({ type: 'fault', fault: 'rate limit 429', method: 'POST', path: endpoint });
        throw new ApiError(429, 'rate_limit_error', decision.message, 'rate_limit_exceeded', null, {
          ...headers,
          'retry-after': String(seconds),
          'retry-after-ms': String(Math.max(0, Math.ceil(decision.retryAfterMs))),
        });
      }
    }
    await latency(context);
    if (res.destroyed) return;
    const identity = { id: randomUUID().replace(/-/g, '').slice(0, 24), created: nowSeconds(), customId };
    const answer = await deps.responder.answer(endpoint, body, identity);
    sendJson(res, answer.status, answer.body, headers);
  };
}
