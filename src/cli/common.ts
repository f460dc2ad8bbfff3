/** Options and steps shared by the pipeline commands. */
import type { Argv } from 'yargs';
import { loadPipelineConfig } from '../config/load.js';
import type { PipelineConfig } from '../config/types.js';
import { type OpenOptions, openWorkspace, type RunWorkspace } from '../run/workspace.js';
import type { CliIo } from './context.js';
import { createLogger, type Logger } from './log.js';

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

/**
 * The frame of a command that works on a pipeline's run dir: a logger, the
 * config, the workspace opened (locked) for `body` and always closed after.
 */
export async function inWorkspace(
  io: CliIo,
  args: PipelineArgs,
  options: Omit<OpenOptions, 'log'> & { secrets?: string[] },
  body: (workspace: RunWorkspace, log: Logger, config: PipelineConfig) => Promise<void>,
): Promise<void> {
  const { secrets, ...open } = options;
  const log = createLogger(io, { quiet: args.quiet ?? false, ...(secrets ? { secrets } : {}) });
  const config = configFromArgs(args, io.env);
  const workspace = await openWorkspace(config, { ...open, log: log.info });
  try {
    await body(workspace, log, config);
  } finally {
    workspace.close();
  }
}
