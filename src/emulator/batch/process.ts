/**
 * Runs a validated batch: streams the input line by line, answers each
 * request through the responder (an ordered window of in-flight requests) and
 * streams result lines into the output and error sinks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isBlank, readLineBlocks } from '../../read/lines.js';
import { stableToken } from '../ids.js';
import type { Answer, BatchEndpoint, Responder } from '../responder.js';
import type { JsonlSink } from './sink.js';

export interface ProcessCounts {
  completed: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
}

export interface ProcessJob {
  batchId: string;
  inputPath: string;
  endpoint: BatchEndpoint;
  /** `created` of every completion, so reprocessing is deterministic. */
  created: number;
  responder: Responder;
  output: JsonlSink;
  errors: JsonlSink;
  concurrency: number;
  delayMs: number;
  /** Stop answering after this many requests (injected cancel/expire, or a resumed cancel). */
  stopAfter?: number | undefined;
  /** Unanswered requests after the stop become `batch_expired` error lines. */
  expireRest: boolean;
  /** Checked between requests: a cancel or shutdown stops the run. */
  shouldStop: () => boolean;
  signal: AbortSignal;
  onProgress: (counts: ProcessCounts) => Promise<void> | void;
}

interface InputRequest {
  custom_id: string;
  body: Record<string, unknown>;
}

/** The result line as JSON text, built around the body's own serialization (no wrapper object to stringify). */
function resultLine(token: string, customId: string, answer: Answer): string {
  return `{"id":"batch_req_${token}","custom_id":${JSON.stringify(customId)},"response":{"status_code":${answer.status},"request_id":"req_${token}","body":${JSON.stringify(answer.body)}},"error":null}`;
}

function expiredLine(batchId: string, customId: string): object {
  return {
    id: `batch_req_${stableToken(batchId, customId)}`,
    custom_id: customId,
    response: null,
    error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
  };
}

/** Returns the counts; `stoppedEarly` when it ended before the input did. */
export async function processBatch(job: ProcessJob): Promise<{ counts: ProcessCounts; stoppedEarly: boolean }> {
  const counts: ProcessCounts = { completed: 0, failed: 0, inputTokens: 0, outputTokens: 0 };
  const inFlight: { customId: string; token: string; answer: Promise<Answer> }[] = [];
  let started = 0;
  let stoppedEarly = false;

  const settleOldest = async (): Promise<void> => {
    const head = inFlight.shift();
    if (!head) return;
    const answer = await head.answer;
    let writing: Promise<void> | undefined;
    if (answer.status === 200) {
      counts.completed += 1;
      writing = job.output.writeLine(resultLine(head.token, head.customId, answer));
    } else {
      counts.failed += 1;
      writing = job.errors.writeLine(resultLine(head.token, head.customId, answer));
    }
    if (writing) await writing;
    if ('usage' in answer && answer.usage) {
      counts.inputTokens += answer.usage.prompt_tokens;
      counts.outputTokens += answer.usage.completion_tokens;
    }
    const pending = job.onProgress(counts);
    if (pending) await pending;
  };

  scan: for await (const block of readLineBlocks(job.inputPath)) {
    for (let index = 0; index < block.count; index++) {
      const text = block.line(index);
      if (isBlank(text)) continue;
      const request = JSON.parse(text) as InputRequest;
      const halted = job.signal.aborted || job.shouldStop() || (job.stopAfter !== undefined && started >= job.stopAfter);
      if (halted) {
        stoppedEarly = true;
        if (!job.expireRest || job.signal.aborted) break scan;
        const writing = job.errors.write(expiredLine(job.batchId, request.custom_id));
        if (writing) await writing;
        counts.failed += 1;
        continue;
      }
      if (job.delayMs > 0) await sleep(job.delayMs, undefined, { signal: job.signal }).catch(() => undefined);
      if (job.signal.aborted) {
        stoppedEarly = true;
        break scan;
      }
      // One sha256 per request: the same token names the completion, the result line and the request id.
      const token = stableToken(job.batchId, request.custom_id);
      const identity = { id: token, created: job.created, customId: request.custom_id };
      inFlight.push({ customId: request.custom_id, token, answer: job.responder.answer(job.endpoint, request.body, identity) });
      started += 1;
      if (inFlight.length >= job.concurrency) await settleOldest();
    }
  }
  while (inFlight.length > 0) await settleOldest();
  return { counts, stoppedEarly };
}
