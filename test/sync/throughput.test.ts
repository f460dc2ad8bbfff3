/** Throughput of mode: sync against the emulator (pseudo engine, no latency): 2,000 requests. */
import { describe, expect, it } from 'vitest';
import { readJsonl, syncSetup } from './helpers.js';

describe('sync throughput', () => {
  it('sends 2,000 requests with concurrency 16 and records every answer', async () => {
    const s = await syncSetup({ rows: 1000, sync: '{concurrency: 16}' });
    try {
      const started = Date.now();
      const result = await s.run();
      const seconds = (Date.now() - started) / 1000;
      expect(result.code, result.stderr).toBe(0);
      expect(s.chatEvents(200)).toHaveLength(2000);
      expect(readJsonl(s.output())).toHaveLength(1000);
      const calls = s.chatEvents().length;
      console.log(
        `sync throughput: ${calls} calls in ${seconds.toFixed(2)} s (${Math.round(calls / seconds)} requests/s, prepare and merge included)`,
      );
    } finally {
      await s.close();
    }
  });
});
