/**
 * The local OpenAI-compatible Batch API emulator: `startEmulator(options)`
 * serves the Files, Batch, chat and embeddings endpoints on loopback, stores
 * everything under `dataDir`, and finishes unfinished batches on restart.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchRunner } from './batch/runner.js';
import { createEchoEngine } from './engines/echo.js';
import { createPseudoEngine } from './engines/pseudo.js';
import type { Engine } from './engines/types.js';
import { FaultState } from './fault-state.js';
import { parseFaultPlan } from './faults.js';
import { RateLimits } from './rate-limits.js';
import { Responder } from './responder.js';
import type { ServerDeps } from './routes/context.js';
import { createRequestHandler } from './server.js';
import { BatchStore } from './store/batch-store.js';
import { FileStore } from './store/file-store.js';
import { UploadStore } from './store/upload-store.js';
import type { EmulatorEvent, EmulatorHandle, EmulatorOptions, ResolvedSettings } from './types.js';

export type { FaultPlan, ResolvedFaultPlan } from './faults.js';
export { loadFaultPlan, parseFaultPlan } from './faults.js';
export type { EmulatorEvent, EmulatorHandle, EmulatorOptions, EngineName } from './types.js';

/** The upstream engine (and the `openai` client it uses) is loaded only when used. */
async function createEngine(options: EmulatorOptions): Promise<{ engine: Engine; concurrency: number }> {
  switch (options.engine ?? 'pseudo') {
    case 'pseudo':
      return { engine: createPseudoEngine(), concurrency: 1 };
    case 'echo':
      return { engine: createEchoEngine(), concurrency: 1 };
    case 'upstream': {
      if (!options.upstreamUrl) throw new Error('engine "upstream" needs upstreamUrl');
      const concurrency = options.upstreamConcurrency ?? 4;
      const engineOptions = {
        baseURL: options.upstreamUrl,
        concurrency,
        ...(options.upstreamApiKey ? { apiKey: options.upstreamApiKey } : {}),
      };
      const { createUpstreamEngine } = await import('./engines/upstream.js');
      return { engine: createUpstreamEngine(engineOptions), concurrency: concurrency * 2 };
    }
  }
}

export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const plan = parseFaultPlan(options.faults ?? {});
  const settings: ResolvedSettings = {
    dataDir: options.dataDir,
    apiKey: options.apiKey,
    timing: { validatingMs: 20, finalizingMs: 20, perRequestMs: 0, syncMs: 0, ...options.timing },
    limits: {
      maxRequestsPerFile: options.limits?.maxRequestsPerFile ?? 50_000,
      maxBytesPerFile: options.limits?.maxBytesPerFile ?? 200_000_000,
      enqueuedTokens: options.limits?.enqueuedTokens ?? plan.enqueued_tokens ?? Number.POSITIVE_INFINITY,
    },
    syncLatencyMs: 0,
  };
  settings.syncLatencyMs = settings.timing.syncMs + plan.sync_latency_ms;
  const rateLimits = new RateLimits({
    rpm: options.limits?.rpm ?? plan.rate_limits?.rpm,
    tpm: options.limits?.tpm ?? plan.rate_limits?.tpm,
    windowMs: options.limits?.rateWindowMs ?? plan.rate_limits?.window_ms ?? 60_000,
  });
  await mkdir(settings.dataDir, { recursive: true });
  const [files, batches, uploads] = await Promise.all([
    FileStore.open(settings.dataDir),
    BatchStore.open(settings.dataDir),
    UploadStore.open(settings.dataDir),
  ]);
  const events: EmulatorEvent[] = [];
  const listeners = new Set<(event: EmulatorEvent) => void>();
  const keepEvents = options.keepEvents ?? true;
  const emit = (event: EmulatorEvent): void => {
    if (keepEvents) events.push(event);
    for (const listener of listeners) listener(event);
  };
  const faults = new FaultState(plan);
  const { engine, concurrency } = await createEngine(options);
  const responder = new Responder(engine, faults);
  const shuffle = plan.shuffle === false ? undefined : plan.shuffle === true ? { window: 256, seed: 1 } : plan.shuffle;
  const runner = new BatchRunner({
    settings,
    files,
    batches,
    responder,
    concurrency,
    shuffle,
    extraDelayMs: plan.delay_ms_per_request,
    emit,
  });
  const deps: ServerDeps = { settings, files, uploads, batches, runner, responder, faults, emit, hangs: new Set(), rateLimits };

  const server = createServer(createRequestHandler(deps));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  runner.resumeAll();

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    origin: `http://127.0.0.1:${port}`,
    port,
    apiKey: settings.apiKey,
    events,
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closing ??= (async () => {
        for (const hang of deps.hangs) hang.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await runner.close();
        await closed;
      })();
      return closing;
    },
  };
}
