/**
 * `keepEvents: false` (serve, the CLI's worker thread): listeners still see
 * every event, but the handle keeps none, so a long-lived emulator polled
 * every 200 ms does not grow a list nobody reads.
 */
import { describe, expect, it } from 'vitest';
import type { EmulatorEvent } from '../../src/emulator/index.js';
import { startHarness } from './harness.js';

describe('emulator events', () => {
  it('are kept by default, and only passed to listeners with keepEvents: false', async () => {
    for (const keepEvents of [true, false]) {
      const harness = await startHarness({ keepEvents });
      try {
        const heard: EmulatorEvent[] = [];
        harness.emulator.on((event) => heard.push(event));
        await harness.client.files.list();
        await harness.client.batches.list();
        const paths = heard.flatMap((event) => (event.type === 'http' ? [event.path] : []));
        expect(paths).toEqual(['/v1/files', '/v1/batches']);
        expect(harness.emulator.events).toEqual(keepEvents ? heard : []);
      } finally {
        await harness.cleanup();
      }
    }
  });
});
