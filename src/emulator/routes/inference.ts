/** Synchronous inference endpoints: the same engine and per-request faults as batches. */
import { randomUUID } from 'node:crypto';
import { badRequest } from '../http/errors.js';
import { nowSeconds, readJsonBody, sendJson } from '../http/io.js';
import type { BatchEndpoint } from '../responder.js';
import type { RouteContext } from './context.js';

function customIdOf(body: Record<string, unknown>): string | undefined {
  const metadata = body['metadata'];
  if (metadata === null || typeof metadata !== 'object') return undefined;
  const value = (metadata as Record<string, unknown>)['custom_id'];
  return typeof value === 'string' ? value : undefined;
}

export function inferenceRoute(endpoint: BatchEndpoint) {
  return async (context: RouteContext): Promise<void> => {
    const body = await readJsonBody(context.req);
    if (typeof body['model'] !== 'string' || body['model'] === '') throw badRequest("Missing required parameter: 'model'.", 'model');
    if (body['stream'] === true) throw badRequest('Streaming is not supported by the emulator.', 'stream');
    const identity = { id: randomUUID().replace(/-/g, '').slice(0, 24), created: nowSeconds(), customId: customIdOf(body) };
    const answer = await context.deps.responder.answer(endpoint, body, identity);
    sendJson(context.res, answer.status, answer.body);
  };
}
