/** Finds the account's batches carrying given metadata, newest first, looking back to a point in time. */
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';

export async function findBatchesByMetadata(client: OpenAI, metadata: Record<string, string>, sinceEpochSeconds: number): Promise<Batch[]> {
  const found: Batch[] = [];
  for await (const batch of client.batches.list({ limit: 100 })) {
    if (batch.created_at < sinceEpochSeconds) break;
    const batchMetadata = (batch.metadata ?? {}) as Record<string, string>;
    if (Object.entries(metadata).every(([key, value]) => batchMetadata[key] === value)) found.push(batch);
  }
  // Oldest first: the first one created is the one to keep.
  return found.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
}
