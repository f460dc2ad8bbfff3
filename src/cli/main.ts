#!/usr/bin/env -S node --max-semi-space-size=4
// The flag: V8's young generation defaults to 16 MB semi-spaces, and a 1M-row `run`
// peaked ~30 MB lower (255 → 225 MB at 100k rows) with 4 MB at the same speed.
// `npm start` and the bench pass it too (bench/measure.mjs: cliCommand).
import { runCli } from './cli.js';
import { processIo } from './context.js';

// The first Ctrl-C asks the running command to stop cleanly (a run stays
// resumable); a second one exits at once.
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
});
process.exitCode = await runCli(process.argv.slice(2), processIo(controller.signal));
