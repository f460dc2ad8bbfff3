#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// Both settings bound memory, at the same speed (100k-row `run` on the emulator):
// - 4 MB young-generation semi-spaces instead of V8's 16: peak RSS 255 → 225-230 MB;
// - two glibc malloc arenas instead of one per thread that allocates (main, state
//   writer, emulator, libuv pool), whose freed pages stay resident: 237 → 211 MB.
// `npm start` passes the node flag; the bench both (bench/measure.mjs: cliCommand, cliEnv).
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
