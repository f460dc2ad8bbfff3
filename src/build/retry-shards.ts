/**
 * retry: requests waiting for another attempt go into new shards, their
 * lines copied byte for byte from the shards they were first sent in
 * (streamed, one source shard at a time).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RunState } from '../state/run-state.js';
import { FileShardSink, type ShardLimits, ShardWriter } from './shards.js';

const CUSTOM_ID_PREFIX = /^\{"custom_id":"([^"]+)"/;

/** `pendingOnly`: only the lines kept in the state (sync mode re-reads retries from their shards itself). */
export async function buildRetryShards(
  state: RunState,
  shardsDir: string,
  limits: ShardLimits,
  options: { pendingOnly?: boolean } = {},
): Promise<number[]> {
  const sources = options.pendingOnly ? [] : state.shardsWithRetries();
  const pending = state.pendingLines();
  if (sources.length === 0 && pending.length === 0) return [];
  const attempt = Math.max(1, ...sources.map((number) => state.shard(number).attempt)) + 1;
  const created: number[] = [];
  const sink = new FileShardSink((shard) => {
    state.insertShard({ ...shard, attempt });
    created.push(shard.number);
  });
  const writer = new ShardWriter(shardsDir, limits, state.nextShardNumber(), sink);
  state.db.exec('BEGIN');
  try {
    // Lines built after prepare (per-cell fallbacks of packed requests) are in the state, not in a shard.
    for (const { request_id, custom_id, line, input_tokens } of pending) {
      state.requeue(request_id, writer.add(line, input_tokens, custom_id));
      state.deletePendingLine(request_id);
    }
    for (const source of sources) {
      const wanted = state.requestsToRetryFromShard(source);
      const shard = state.shard(source);
      const tokensPerLine = shard.lines > 0 ? Math.ceil(shard.input_tokens / shard.lines) : 0;
      for await (const line of createInterface({ input: createReadStream(shard.path), crlfDelay: Number.POSITIVE_INFINITY })) {
        const customId = CUSTOM_ID_PREFIX.exec(line)?.[1];
        const requestId = customId === undefined ? undefined : wanted.get(customId);
        if (requestId === undefined) continue;
        const number = writer.add(line, tokensPerLine, customId!);
        state.requeue(requestId, number);
      }
    }
    writer.close();
    state.event('retry.shards', { attempt, shards: created });
    state.db.exec('COMMIT');
  } catch (error) {
    if (state.db.inTransaction) state.db.exec('ROLLBACK');
    throw error;
  }
  return created;
}

export function shardsDirOf(runDir: string): string {
  return join(runDir, 'shards');
}
