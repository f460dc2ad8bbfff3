/** Turns a finished run's sinks and counts into what the batch object reports. */
import type { Batch } from 'openai/resources/batches';
import { nowSeconds } from '../http/io.js';
import type { BatchRecord } from '../store/batch-store.js';
import type { FileStore } from '../store/file-store.js';
import type { ProcessCounts } from './process.js';
import type { JsonlSink } from './sink.js';

/** Registers the non-empty result files (purpose batch_output); empty ones are dropped like the real API does. */
export async function registerOutputs(
  files: FileStore,
  record: BatchRecord,
  output: JsonlSink,
  errors: JsonlSink,
): Promise<Partial<Batch>> {
  const ids: Partial<Batch> = {};
  const now = nowSeconds();
  for (const [sink, key, suffix] of [
    [output, 'output_file_id', 'output'],
    [errors, 'error_file_id', 'error'],
  ] as const) {
    const staged = await sink.finish();
    if (sink.lines === 0) {
      await files.discard(staged);
      continue;
    }
    const stored = await files.register(
      staged,
      `${record.batch.id}_${suffix}.jsonl`,
      'batch_output',
      now,
      record.outputExpiresAfterSeconds,
    );
    ids[key] = stored.file.id;
  }
  return ids;
}

export function usageOf(counts: ProcessCounts): NonNullable<Batch['usage']> {
  return {
    input_tokens: counts.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: counts.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: counts.inputTokens + counts.outputTokens,
  };
}
