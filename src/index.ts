/** transbatch as a library: load a pipeline, run it, or start the emulator. */

export { runCli } from './cli/cli.js';
export { loadPipelineConfig } from './config/load.js';
export { pipelineSchema } from './config/schema.js';
export type { PipelineConfig, ResolvedOutput } from './config/types.js';
export { startEmulator } from './emulator/index.js';
export { type ErrorCode, TransbatchError } from './errors.js';
export { mergeOutputs } from './merge/merge.js';
export { readRecords } from './read/index.js';
export { type RunOptions, type RunResult, runPipeline } from './run/pipeline.js';
export { ensurePrepared, openWorkspace } from './run/workspace.js';
export { openRecordWriter } from './write/index.js';
