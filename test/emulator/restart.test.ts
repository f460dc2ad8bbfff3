import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { chatLines, createBatch, fileLines, startHarness, tempDir, uploadJsonl, waitForBatch } from './harness.js';

describe('restart on the same data dir', () => {
  it('keeps files and batches and finishes a batch interrupted mid-run', async () => {
    const dir = await tempDir();
    try {
      const first = await startHarness({ timing: { perRequestMs: 15 } }, dir);
      const fileId = await uploadJsonl(first, chatLines(60));
      const done = await waitForBatch(first.client, (await createBatch(first, fileId)).id);
      const running = await createBatch(first, fileId, { shard: 'restart' });
      for (;;) {
        const batch = await first.client.batches.retrieve(running.id);
        if ((batch.request_counts?.completed ?? 0) >= 5) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await first.cleanup();

      const second = await startHarness({ timing: { perRequestMs: 1 } }, dir);
      try {
        expect((await second.client.files.retrieve(fileId)).id).toBe(fileId);
        expect((await second.client.batches.retrieve(done.id)).status).toBe('completed');
        const finished = await waitForBatch(second.client, running.id);
        expect(finished.status).toBe('completed');
        expect(finished.metadata).toEqual({ shard: 'restart' });
        expect(finished.request_counts).toEqual({ total: 60, completed: 60, failed: 0 });
        const lines = await fileLines(second.client, finished.output_file_id);
        expect(lines.map((line) => line['custom_id'])).toEqual(Array.from({ length: 60 }, (_, index) => `row-${index}`));
        // Reprocessing is deterministic: same answers as the batch finished before the restart.
        const before = await fileLines(second.client, done.output_file_id);
        const bodyOf = (line: Record<string, unknown>) => (line['response'] as { body: { choices: unknown } }).body.choices;
        expect(lines.map(bodyOf)).toEqual(before.map(bodyOf));
        expect(
          second.emulator.events.some(
            (event) => event.type === 'batch.status' && event.batchId === running.id && event.status === 'completed',
          ),
        ).toBe(true);
      } finally {
        await second.cleanup();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
