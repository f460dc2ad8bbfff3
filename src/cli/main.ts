#!/usr/bin/env node
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
