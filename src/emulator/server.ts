/**
 * The HTTP front: one event per request, bearer-token check, injected HTTP
 * faults, strict id patterns, then the route. Every error leaves in OpenAI's
 * `{error:{…}}` shape with its real status code.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, notFound, rateLimited, serverError, unauthorized } from './http/errors.js';
import { sendError } from './http/io.js';
import { isBatchId, isFileId, isUploadId } from './ids.js';
import { cancelBatch, createBatch, listBatches, retrieveBatch } from './routes/batches.js';
import type { RequestNote, RouteHandler, ServerDeps } from './routes/context.js';
import { createFile, deleteFile, fileContent, listFiles, retrieveFile } from './routes/files.js';
import { inferenceRoute } from './routes/inference.js';
import { addUploadPart, cancelUpload, completeUpload, createUpload } from './routes/uploads.js';

interface Route {
  method: string;
  /** Path with at most one `{id}`, e.g. `/v1/batches/{id}/cancel`. */
  pattern: string;
  idCheck?: (id: string) => boolean;
  handler: RouteHandler;
}

const ROUTES: readonly Route[] = [
  { method: 'POST', pattern: '/v1/files', handler: createFile },
  { method: 'GET', pattern: '/v1/files', handler: listFiles },
  { method: 'GET', pattern: '/v1/files/{id}', idCheck: isFileId, handler: retrieveFile },
  { method: 'GET', pattern: '/v1/files/{id}/content', idCheck: isFileId, handler: fileContent },
  { method: 'DELETE', pattern: '/v1/files/{id}', idCheck: isFileId, handler: deleteFile },
  { method: 'POST', pattern: '/v1/uploads', handler: createUpload },
  { method: 'POST', pattern: '/v1/uploads/{id}/parts', idCheck: isUploadId, handler: addUploadPart },
  { method: 'POST', pattern: '/v1/uploads/{id}/complete', idCheck: isUploadId, handler: completeUpload },
  { method: 'POST', pattern: '/v1/uploads/{id}/cancel', idCheck: isUploadId, handler: cancelUpload },
  { method: 'POST', pattern: '/v1/batches', handler: createBatch },
  { method: 'GET', pattern: '/v1/batches', handler: listBatches },
  { method: 'GET', pattern: '/v1/batches/{id}', idCheck: isBatchId, handler: retrieveBatch },
  { method: 'POST', pattern: '/v1/batches/{id}/cancel', idCheck: isBatchId, handler: cancelBatch },
  { method: 'POST', pattern: '/v1/chat/completions', handler: inferenceRoute('/v1/chat/completions') },
  { method: 'POST', pattern: '/v1/completions', handler: inferenceRoute('/v1/completions') },
  { method: 'POST', pattern: '/v1/embeddings', handler: inferenceRoute('/v1/embeddings') },
];

/** Matches a path against a pattern; the id segment may hold anything but `/` (checked later). */
function matchRoute(method: string, path: string): { route: Route; id: string } | 'wrong-method' | undefined {
  let pathMatched = false;
  for (const route of ROUTES) {
    const [prefix, suffix = ''] = route.pattern.split('{id}');
    let id = '';
    if (route.pattern.includes('{id}')) {
      if (!path.startsWith(prefix ?? '') || !path.endsWith(suffix)) continue;
      id = path.slice((prefix ?? '').length, path.length - suffix.length);
      if (id === '' || id.includes('/')) continue;
    } else if (path !== route.pattern) continue;
    pathMatched = true;
    if (route.method === method) return { route, id };
  }
  return pathMatched ? 'wrong-method' : undefined;
}

/** `Authorization: Bearer <key>` (OpenAI) or `api-key: <key>` (Azure). */
function hasValidKey(req: IncomingMessage, apiKey: string): boolean {
  const header = req.headers.authorization ?? '';
  const azureKey = req.headers['api-key'];
  const presented = header.startsWith('Bearer ') ? header.slice(7) : typeof azureKey === 'string' ? azureKey : '';
  const given = Buffer.from(presented);
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Azure OpenAI's paths, mapped onto the OpenAI ones (same objects):
 * `/openai/files…`, `/openai/batches…` and
 * `/openai/deployments/{deployment}/chat/completions` (and completions,
 * embeddings) need `?api-version=`; Azure's v1 API `/openai/v1/…` does not.
 */
export function azurePath(path: string, url: URL): { path: string; deployment?: string } | 'no-api-version' | undefined {
  if (path !== '/openai' && !path.startsWith('/openai/')) return undefined;
  if (path.startsWith('/openai/v1/')) return { path: path.slice('/openai'.length) };
  if (!url.searchParams.get('api-version')) return 'no-api-version';
  const deployment = /^\/openai\/deployments\/([^/]+)(\/.*)$/.exec(path);
  if (deployment) {
    const rest = deployment[2] ?? '';
    if (rest === '/chat/completions' || rest === '/completions' || rest === '/embeddings') {
      return { path: `/v1${rest}`, deployment: decodeURIComponent(deployment[1] ?? '') };
    }
    return { path: `/v1/deployments${rest}` };
  }
  return { path: `/v1${path.slice('/openai'.length)}` };
}

/** The pattern-shaped path used for events and fault routes (`/v1/batches/{id}`). */
function decodedPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

export function createRequestHandler(deps: ServerDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawPath = url.pathname.replace(/\/+$/, '') || '/';
    const azure = azurePath(rawPath, url);
    const path = azure === undefined || azure === 'no-api-version' ? rawPath : azure.path;
    const start = Date.now();
    const note: RequestNote = {};
    if (azure !== undefined && azure !== 'no-api-version' && azure.deployment !== undefined) note.deployment = azure.deployment;
    res.once('close', () => {
      const status = res.headersSent ? res.statusCode : 0;
      const event = { type: 'http' as const, method, path, status, start, end: Date.now() };
      deps.emit(note.customId === undefined ? event : { ...event, customId: note.customId });
    });
    const handled =
      azure === 'no-api-version'
        ? Promise.resolve().then(() => {
            req.resume();
            throw new ApiError(
              404,
              'invalid_request_error',
              'Resource not found: Azure OpenAI paths need an api-version query parameter.',
              '404',
            );
          })
        : handle(deps, req, res, method, path, url, note);
    handled.catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ApiError) sendError(res, error);
      else {
        console.error('emulator: unexpected error', error);
        sendError(res, serverError());
      }
    });
  };
}

async function handle(
  deps: ServerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  url: URL,
  note: RequestNote,
): Promise<void> {
  if (!hasValidKey(req, deps.settings.apiKey)) {
    req.resume();
    throw unauthorized();
  }
  const matched = matchRoute(method, path);
  if (matched === undefined || matched === 'wrong-method') {
    req.resume();
    throw matched === undefined
      ? notFound(`Unknown request URL: ${method} ${decodedPath(url)}.`)
      : new ApiError(405, 'invalid_request_error', `Method ${method} not allowed.`);
  }
  const { route, id } = matched;
  // Strict id pattern before anything touches the disk: `../../etc/passwd` is a 404, never a read.
  if (route.idCheck && !route.idCheck(id)) {
    req.resume();
    throw notFound(`No such object: ${JSON.stringify(decodedPath(url))}.`);
  }
  const fault = deps.faults.takeHttpFault(method, path);
  if (fault?.action === 'error') {
    req.resume();
    deps.emit({ type: 'fault', fault: `http ${fault.status}`, method, path });
    throw fault.status === 429 ? rateLimited(fault.retry_after_seconds) : serverError(fault.status, 'Injected server error.');
  }
  if (fault) deps.emit({ type: 'fault', fault: fault.action, method, path });
  await route.handler({ req, res, url, id, fault, deps, note });
}
