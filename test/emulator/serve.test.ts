import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { tempDir } from './harness.js';

describe('transbatch serve', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the base URL and key, serves, and stops cleanly on SIGTERM', async () => {
    const dir = await tempDir();
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const running = yargs()
      .command(serveCommand)
      .parseAsync(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--engine', 'echo', '--api-key', 'serve-key']);
    try {
      await vi.waitFor(() => expect(printed.join('')).toMatch(/OPENAI_BASE_URL=/), { timeout: 10_000 });
      const output = printed.join('');
      const baseURL = /OPENAI_BASE_URL=(\S+)/.exec(output)?.[1] ?? '';
      expect(output).toContain('OPENAI_API_KEY=serve-key');
      expect(baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const client = new OpenAI({ apiKey: 'serve-key', baseURL, maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'unchanged' }] });
      expect(answer.choices[0]?.message.content).toBe('unchanged');
    } finally {
      process.emit('SIGTERM');
      await running;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
