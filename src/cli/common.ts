/** Options and steps shared by the pipeline commands. */
import type { Argv } from 'yargs';
import { loadPipelineConfig } from '../config/load.js';
import type { PipelineConfig } from '../config/types.js';

export interface PipelineArgs {
  pipeline: string;
  'run-dir'?: string | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
}

export function withPipelineArgs<T>(yargs: Argv<T>): Argv<T & PipelineArgs> {
  return yargs
    .positional('pipeline', { type: 'string', demandOption: true, describe: 'pipeline config (YAML or JSON)' })
    .option('run-dir', { type: 'string', describe: 'run dir (default: run_dir from the config, else runs/<name>)' })
    .option('json', { type: 'boolean', describe: 'machine-readable output on stdout' })
    .option('quiet', { type: 'boolean', alias: 'q', describe: 'only warnings and errors on stderr' }) as unknown as Argv<T & PipelineArgs>;
}

/** `env` is the CLI's environment (io.env), which decides the default response cache dir. */
export function configFromArgs(args: PipelineArgs, env?: NodeJS.ProcessEnv): PipelineConfig {
  return loadPipelineConfig(args.pipeline, { ...(args['run-dir'] ? { runDir: args['run-dir'] } : {}), ...(env ? { env } : {}) });
}
