/**
 * collect: turns a finished batch into per-request outcomes in the run
 * state. Both files are downloaded first; their lines are then recorded in
 * one transaction together with the shard's `collected` mark, so a process
 * killed half-way collects the batch again from scratch on resume. That
 * transaction never awaits: the batch loop uploads meanwhile, and its writes
 * must not fall into (or be rolled back with) a collect's transaction.
 */
import { join } from 'node:path';
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { TransbatchError } from '../errors.js';
import { isBlank, readLineBlocksSync } from '../read/lines.js';
import { parseCustomId } from '../split/custom-id.js';
import type { OutcomeWriter, RunState } from '../state/run-state.js';
import type { ShardRow } from '../state/types.js';
import { type ClassifyContext, classifyLine, parseOutputLine, settleVerdict } from './classify.js';
import { downloadFile, hasFile } from './download.js';
import type { PackFallback } from './pack-fallback.js';
import { ShardRequests } from './shard-requests.js';

export interface CollectContext {
  client: OpenAI;
  state: RunState;
  downloadsDir: string;
  classify: ClassifyContext;
  maxAttempts: number;
  packFallback: PackFallback;
  log: (message: string) => void;
  /** First backoff after a token_limit_exceeded failure (default 15 s), doubled per re-create. */
  tokenLimitBackoffBaseSeconds?: number;
}

export interface CollectSummary {
  done: number;
  retry: number;
  rejected: number;
  ignored: number;
}

/** Backoff before re-creating a batch refused for enqueued-token limits. */
export function tokenLimitBackoffSeconds(creates: number, baseSeconds = 15): number {
  return Math.min(baseSeconds * 2 ** Math.max(creates - 1, 0), 600);
}

export async function collectBatch(context: CollectContext, shard: ShardRow, batch: Batch): Promise<CollectSummary> {
  const { state } = context;
  const summary: CollectSummary = { done: 0, retry: 0, rejected: 0, ignored: 0 };
  if (batch.status === 'failed') {
    const errors = batch.errors?.data ?? [];
    if (errors.some((error) => error.code === 'token_limit_exceeded')) {
      const wait = tokenLimitBackoffSeconds(shard.creates, context.tokenLimitBackoffBaseSeconds);
      state.transaction(() => {
        state.uncountAttempts(shard.number);
        state.setShardStatus(shard.number, 'uploaded', { batch_status: 'failed', not_before: Date.now() / 1000 + wait });
        state.event('batch.token_limit', { shard: shard.number, batch_id: batch.id, retry_in_s: wait });
      });
      context.log(
        `batch ${batch.id} (shard ${shard.number}) hit the enqueued-token limit; resubmitting the same file in ${Number(wait.toFixed(2))}s`,
      );
      return summary;
    }
    const first = errors[0];
    const where = first?.line ? ` at line ${first.line}` : '';
    state.event('batch.failed', { shard: shard.number, batch_id: batch.id, errors });
    throw new TransbatchError(
      'batch_failed',
      `batch ${batch.id} failed validation${where} of ${shard.path}: ${first?.code ?? 'unknown'}: ${first?.message ?? 'no message'}. ` +
        'This is a bug in the request file transbatch built; please report it. The run stays resumable.',
      { file: shard.path, ...(first?.line ? { line: first.line } : {}), batchId: batch.id },
    );
  }

  const files: string[] = [];
  if (hasFile(batch.output_file_id))
    files.push(await downloadFile(context.client, batch.output_file_id, join(context.downloadsDir, `${batch.id}.output.jsonl`)));
  if (hasFile(batch.error_file_id))
    files.push(await downloadFile(context.client, batch.error_file_id, join(context.downloadsDir, `${batch.id}.errors.jsonl`)));

  state.db.exec('BEGIN');
  try {
    const recorder: LineRecorder = { requests: new ShardRequests(state, shard.number), outcomes: state.outcomeWriter() };
    for (const file of files) {
      // Read synchronously: the transaction must not yield to the run's other tasks (they write to the state too).
      for (const block of readLineBlocksSync(file)) {
        for (let index = 0; index < block.count; index++) {
          const text = block.line(index);
          if (!isBlank(text)) recordLine(context, recorder, shard, text, summary);
        }
      }
    }
    recorder.outcomes.flush();
    const unanswered =
      batch.status === 'completed'
        ? { reason: 'missing', detail: 'in neither the output nor the error file' }
        : { reason: `batch_${batch.status}`, detail: `not processed: the batch was ${batch.status}` };
    const swept = state.sweepUnanswered(shard.number, unanswered.reason, unanswered.detail, context.maxAttempts);
    summary.retry += swept;
    state.setShardStatus(shard.number, 'collected', { batch_status: batch.status });
    state.event('batch.collected', { shard: shard.number, batch_id: batch.id, status: batch.status, ...summary });
    state.db.exec('COMMIT');
  } catch (error) {
    if (state.db.inTransaction) state.db.exec('ROLLBACK');
    throw error;
  }
  return summary;
}

interface LineRecorder {
  requests: ShardRequests;
  outcomes: OutcomeWriter;
}

function recordLine(context: CollectContext, recorder: LineRecorder, shard: ShardRow, text: string, summary: CollectSummary): void {
  const { state } = context;
  const line = parseOutputLine(text);
  // A lookup reads outcomes: those recorded so far are written first.
  const request = line ? recorder.requests.take(line.custom_id, () => recorder.outcomes.flush()) : undefined;
  // Unknown ids, answers for another shard and duplicates are logged, never applied.
  if (!line || !request || request.shard !== shard.number || request.status !== 'queued') {
    summary.ignored++;
    state.event('collect.ignored_line', { shard: shard.number, custom_id: line?.custom_id ?? null });
    return;
  }
  const parsed = parseCustomId(line.custom_id);
  const packed = parsed?.packed ?? false;
  const verdict = classifyLine(line, { text: request.text, lang: parsed?.lang ?? '', packed }, context.classify);
  const outcome = settleVerdict(verdict, request.attempts, context.maxAttempts, 'batch', packed);
  if (outcome.kind === 'fallback') {
    recorder.outcomes.flush();
    context.packFallback.apply(state, request.id, request.text, outcome.detail, outcome);
    summary.retry++;
    return;
  }
  recorder.outcomes.add(request.id, outcome);
  summary[outcome.kind]++;
}
