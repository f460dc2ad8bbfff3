import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/cli/log.js';

it('redacts secrets added after the logger was made (the provider key is known only later)', () => {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  const secrets: string[] = [];
  const log = createLogger({ stdout: sink, stderr: sink, env: {}, isTty: false, signal: new AbortController().signal }, { secrets });
  log.info('before: sk-late-secret-123');
  secrets.push('sk-late-secret-123');
  log.info('after: sk-late-secret-123');
  log.out('data: sk-late-secret-123');
  expect(text).toBe('before: sk-late-secret-123\nafter: [redacted]\ndata: [redacted]\n');
});
