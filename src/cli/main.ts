#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=4 --heap-growing-percent=50
// The settings bound memory, at about the same speed (the heap growth costs a big `run` ~5-10% CPU):
// - 4 MB young-generation semi-spaces instead of V8's 16 (100k-row `run`): peak RSS 255 → 225-230 MB;
// - the old generation grows by half its live size before a full GC, not by V8's
//   speed-based factor (up to 4×), which in about one 1M-row prepare of four let the
//   main heap reach 53-62 MB instead of 30 (peak RSS 170-180 MB instead of 147);
// - two glibc malloc arenas instead of one per thread that allocates (main, state
//   writer, emulator, libuv pool), whose freed pages stay resident: 237 → 211 MB;
// - a fixed mmap threshold (glibc's default, 128 KB): otherwise freeing one large
//   buffer raises it, later large buffers land in an arena and their freed pages
//   stay resident. 1M-row prepare: 180-202 → 147-160 MB, 1M-row run: 252 → 224 MB.
// `npm start` passes the node flags; the bench all (bench/measure.mjs: cliCommand, cliEnv).
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
