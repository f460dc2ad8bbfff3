/** transbatch as a library: load a pipeline, run it, or start the emulator. */
export { loadPipelineConfig } from './config/load.js';
export type { PipelineConfig, ResolvedOutput } from './config/types.js';
export { pipelineSchema } from './config/schema.js';
export { TransbatchError, type ErrorCode } from './errors.js';
export { runPipeline, type RunOptions, type RunResult } from './run/pipeline.js';
export { openWorkspace, ensurePrepared } from './run/workspace.js';
export { mergeOutputs } from './merge/merge.js';
export { readRecords } from './read/index.js';
export { openRecordWriter } from './write/index.js';
export { startEmulator } from './emulator/index.js';
export { runCli } from './cli/cli.js';
