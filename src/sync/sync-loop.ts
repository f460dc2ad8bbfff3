/**
 * mode: sync — the request shards prepare wrote are the request store; every
 * line whose request is still `queued` or `retry` is sent as a direct
 * `chat.completions.create` call (its body unchanged) under p-limit, within
 * the rpm/tpm budgets, and its answer is classified and recorded like a batch
 * output line. Rounds repeat until every request is done or rejected.
 *
 * Transient failures (429, 5xx, connection errors) are re-sent after a
 * backoff without spending one of the request's `retry.max_attempts`; only
 * after `transportRetries` of them in a row does the send count as a failed
 * attempt. A 429 pauses the whole sender for its Retry-After.
 *
 * Results are written in small transactions (every `flushEvery` answers or
 * `flushMs`), so a killed run loses at most that window and resumes with
 * only the missing requests.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import pLimit from 'p-limit';
import { buildRetryShards, shardsDirOf } from '../build/retry-shards.js';
import { shardLimitsOf } from '../build/shards.js';
import { type ClassifyContext, classifyLine, type OutputLine, settleVerdict } from '../collect/classify.js';
import type { PackFallback } from '../collect/pack-fallback.js';
import type { PipelineConfig } from '../config/types.js';
import { TransbatchError } from '../errors.js';
import { parseCustomId } from '../split/custom-id.js';
import type { RunState } from '../state/run-state.js';
import type { ProgressReporter } from '../wait/progress.js';
import { RateLimiter, retryAfterMs, sleep } from './rate-limiter.js';

export type SyncOutcome = 'finished' | 'pending';

export interface SyncLoopOptions {
  client: OpenAI;
  state: RunState;
  config: PipelineConfig;
  classify: ClassifyContext;
  maxAttempts: number;
  packFallback: PackFallback;
  signal: AbortSignal;
  progress: ProgressReporter;
  log: (message: string) => void;
  /** Transient failures (429/5xx/connection) re-sent before one counts as a failed attempt (default 8). */
  transportRetries?: number;
  /** First backoff after a transient failure, doubled each time up to 30 s (default 500 ms). */
  backoffMs?: number;
  /** Answers recorded per transaction (default 100). */
  flushEvery?: number;
  /** Longest time an answer waits in memory before it is written (default 200 ms). */
  flushMs?: number;
}

/** Header naming the request a direct call answers (ignored by OpenAI; lets proxies and emulators match faults). */
export const CUSTOM_ID_HEADER = 'x-transbatch-custom-id';

const CUSTOM_ID_PREFIX = /^\{"custom_id":"([^"]+)"/;
const MAX_BACKOFF_MS = 30_000;

interface Pending {
  id: number;
  customId: string;
  attempts: number;
  tokens: number;
}

interface Recorded {
  id: number;
  outcome: ReturnType<typeof settleVerdict>;
  /** What was sent: a packed request's fallback needs it. */
  text: string;
}

/** Shards a batch may still be answering: their requests must not be sent again. */
export function shardsInFlight(state: RunState): number[] {
  return state
    .shards()
    .filter((shard) => shard.status === 'creating' || shard.status === 'submitted')
    .map((shard) => shard.number);
}

/** Requests still to send (queued or waiting for a retry). */
export function requestsLeft(state: RunState): number {
  const counts = state.requestCounts();
  return counts.queued + counts.retry;
}

export async function runSyncLoop(options: SyncLoopOptions): Promise<SyncOutcome> {
  const { state, config, signal } = options;
  const inFlightShards = shardsInFlight(state);
  if (inFlightShards.length > 0) {
    throw new TransbatchError(
      'state',
      `mode: sync, but shard(s) ${inFlightShards.join(', ')} were submitted as batches by an earlier run; ` +
        'finish them with mode: batch (or auto), or cancel them first, so no request is paid twice',
    );
  }
  const sender = new SyncSender(options);
  state.event('sync.started', {
    left: requestsLeft(state),
    concurrency: config.sync.concurrency,
    rpm: config.sync.rpm ?? null,
    tpm: config.sync.tpm ?? null,
  });
  try {
    for (let round = 1; ; round++) {
      await buildRetryShards(state, shardsDirOf(config.runDir), shardLimitsOf(config.batch), { pendingOnly: true });
      const shards = pendingShards(state);
      if (shards.length === 0) break;
      if (signal.aborted) return 'pending';
      const left = requestsLeft(state);
      options.log(
        round === 1
          ? `sending ${left} request(s) directly (sync, concurrency ${config.sync.concurrency})`
          : `sync: round ${round}, re-sending ${left} request(s)`,
      );
      state.event('sync.round', { round, left });
      const sent = await sender.sendRound(shards);
      if (signal.aborted) return 'pending';
      if (sent === 0) {
        throw new TransbatchError(
          'state',
          `${left} request(s) wait to be sent but none of them is in its shard file (shards ${shards.join(', ')}); the run dir is damaged: use --fresh`,
        );
      }
    }
    state.transaction(() => {
      for (const shard of state.shards()) {
        if (shard.status !== 'collected') state.setShardStatus(shard.number, 'collected', { batch_status: 'sync', completed: shard.lines });
      }
      state.event('sync.finished', sender.summary());
    });
    return 'finished';
  } finally {
    sender.close();
  }
}

function pendingShards(state: RunState): number[] {
  return (
    state.db
      .prepare(
        "SELECT DISTINCT r.shard FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id WHERE COALESCE(o.status, 'queued') IN ('queued', 'retry') AND r.shard IS NOT NULL ORDER BY r.shard",
      )
      .all() as {
      shard: number;
    }[]
  ).map((row) => row.shard);
}

class SyncSender {
  private readonly limit;
  private readonly limiter: RateLimiter;
  private readonly window: number;
  private readonly transportRetries: number;
  private readonly backoffMs: number;
  private readonly flushEvery: number;
  private readonly buffer: Recorded[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly running = new Set<Promise<void>>();
  private inFlight = 0;
  private typicalTokens = 1;
  private failure: unknown;
  private readonly counts = { total: 0, done: 0, rejected: 0, sent: 0, transient: 0 };
  private readonly selectPending;

  constructor(private readonly options: SyncLoopOptions) {
    const { config, state } = options;
    this.limit = pLimit(config.sync.concurrency);
    this.window = config.sync.concurrency * 2;
    this.transportRetries = options.transportRetries ?? 8;
    this.backoffMs = options.backoffMs ?? 500;
    this.flushEvery = options.flushEvery ?? 100;
    this.limiter = new RateLimiter({ rpm: config.sync.rpm, tpm: config.sync.tpm }, (ms, why) => {
      state.event('sync.paused', { ms, why });
    });
    this.selectPending = state.db.prepare(
      `SELECT r.id, r.custom_id, r.attempts + COALESCE(s.counted, 0) AS attempts, r.input_tokens, r.expected_output_tokens
       FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id LEFT JOIN shards s ON s.number = r.shard
       WHERE r.shard = ? AND COALESCE(o.status, 'queued') IN ('queued', 'retry')`,
    );
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 200);
    this.timer.unref();
    const totals = state.db
      .prepare(
        "SELECT COUNT(*) AS total, COALESCE(SUM(o.status = 'done'), 0) AS done, COALESCE(SUM(o.status = 'rejected'), 0) AS rejected FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id WHERE r.shard IS NOT NULL",
      )
      .get() as { total: number; done: number; rejected: number };
    Object.assign(this.counts, totals);
    this.reportProgress();
  }

  summary(): Record<string, number> {
    return { ...this.counts };
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  /** One pass over the shards: every pending request is sent once. Returns how many were scheduled. */
  async sendRound(shards: number[]): Promise<number> {
    let scheduled = 0;
    try {
      for (const number of shards) {
        if (this.stopped()) break;
        const shard = this.options.state.shard(number);
        const pending = new Map<string, Pending>();
        for (const row of this.selectPending.all(number) as {
          id: number;
          custom_id: string;
          attempts: number;
          input_tokens: number;
          expected_output_tokens: number;
        }[]) {
          pending.set(row.custom_id, {
            id: row.id,
            customId: row.custom_id,
            attempts: row.attempts,
            tokens: Math.max(1, row.input_tokens + row.expected_output_tokens),
          });
        }
        const lines = createInterface({ input: createReadStream(shard.path), crlfDelay: Number.POSITIVE_INFINITY });
        try {
          for await (const line of lines) {
            if (pending.size === 0 || this.stopped()) break;
            const customId = CUSTOM_ID_PREFIX.exec(line)?.[1];
            const request = customId === undefined ? undefined : pending.get(customId);
            if (request === undefined) continue;
            pending.delete(request.customId);
            // Bounded window: never read far ahead of what is being sent.
            while (this.running.size >= this.window) await Promise.race(this.running);
            if (this.stopped()) break;
            this.schedule(request, line);
            scheduled++;
          }
        } finally {
          lines.close();
        }
      }
    } finally {
      // Ctrl-C or not: what was sent gets recorded before we return.
      while (this.running.size > 0) await Promise.race(this.running);
      this.flush();
    }
    if (this.failure !== undefined) throw this.failure;
    return scheduled;
  }

  private stopped(): boolean {
    return this.options.signal.aborted || this.failure !== undefined;
  }

  private schedule(request: Pending, line: string): void {
    const task = this.limit(() => this.send(request, line)).catch((error: unknown) => {
      this.failure ??= error;
    });
    const tracked = task.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** One attempt of one request (with its transient re-sends); records the outcome unless stopped first. */
  private async send(request: Pending, text: string): Promise<void> {
    const { client, signal } = this.options;
    const body = (JSON.parse(text) as { body: ChatCompletionCreateParamsNonStreaming }).body;
    this.typicalTokens = Math.round(this.typicalTokens * 0.9 + request.tokens * 0.1);
    for (let transient = 0; ; transient++) {
      if (this.stopped()) return;
      if (!(await this.limiter.acquire(request.tokens, signal))) return;
      if (this.stopped()) return;
      let line: OutputLine;
      let retryAfter: number | undefined;
      this.inFlight++;
      this.counts.sent++;
      try {
        const { data, response } = await client.chat.completions
          .create(body, { maxRetries: 0, headers: { [CUSTOM_ID_HEADER]: request.customId } })
          .withResponse();
        this.inFlight--;
        this.limiter.observe(response.headers, this.inFlight, this.typicalTokens);
        line = { custom_id: request.customId, response: { status_code: 200, body: data }, error: null };
      } catch (error) {
        this.inFlight--;
        if (error instanceof OpenAI.APIUserAbortError) return;
        if (error instanceof OpenAI.APIConnectionError) {
          line = { custom_id: request.customId, response: null, error: { code: 'connection_error', message: error.message } };
        } else if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
          const status = error.status;
          this.limiter.observe(error.headers, this.inFlight, this.typicalTokens);
          if (status === 401 || status === 403) {
            throw new TransbatchError('auth', `the provider refused the API key (HTTP ${status}): ${describe(error)}`, {
              customId: request.customId,
            });
          }
          retryAfter = retryAfterMs(error.headers);
          const inner = (error.error ?? {}) as { message?: string; code?: string | null };
          line = {
            custom_id: request.customId,
            response: { status_code: status, body: { error: { message: inner.message ?? describe(error), code: inner.code ?? null } } },
            error: null,
          };
        } else {
          throw error;
        }
      }
      const status = line.response?.status_code;
      const isTransient = status === undefined || status === 429 || status === 408 || status === 409 || status >= 500;
      if (isTransient && transient < this.transportRetries) {
        this.counts.transient++;
        const wait = retryAfter ?? Math.min(this.backoffMs * 2 ** transient, MAX_BACKOFF_MS);
        // A 429 is about the account, not this request: every sender waits.
        if (status === 429) this.limiter.pause(wait, 'http 429');
        else await sleep(wait, signal);
        continue;
      }
      this.record(request, line);
      return;
    }
  }

  private record(request: Pending, line: OutputLine): void {
    const text = this.options.state.requestTextOf(request.id) ?? '';
    const parsed = parseCustomId(request.customId);
    const packed = parsed?.packed ?? false;
    const verdict = classifyLine(line, { text, lang: parsed?.lang ?? '', packed }, this.options.classify);
    const outcome = settleVerdict(verdict, request.attempts + 1, this.options.maxAttempts, 'sync', packed);
    if (outcome.kind === 'done') this.counts.done++;
    else if (outcome.kind === 'rejected') this.counts.rejected++;
    this.buffer.push({ id: request.id, outcome, text });
    if (this.buffer.length >= this.flushEvery) this.flush();
    this.reportProgress();
  }

  /** Writes the buffered answers in one transaction (attempt counted with its outcome). */
  private flush(): void {
    if (this.buffer.length === 0) return;
    const { state } = this.options;
    if (!state.db.open) return;
    const batch = this.buffer.splice(0, this.buffer.length);
    state.transaction(() => {
      for (const { id, outcome, text } of batch) {
        state.countAttempt(id);
        if (outcome.kind === 'fallback') this.options.packFallback.apply(state, id, text, outcome.detail, outcome);
        else state.recordOutcome(id, outcome);
      }
    });
  }

  private reportProgress(): void {
    this.options.progress.update({
      batchesInFlight: 0,
      batchesDone: 0,
      requestsTotal: this.counts.total,
      requestsCompleted: this.counts.done,
      requestsFailed: this.counts.rejected,
    });
  }
}

function describe(error: Error): string {
  return error.message.replace(/\s+/g, ' ').trim();
}
