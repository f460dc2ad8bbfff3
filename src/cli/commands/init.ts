import type { CommandModule } from 'yargs';
import { type DataFormat, FORMATS } from '../../config/schema.js';
import { initPipeline } from '../../init/init.js';
import { fieldSurvey } from '../../init/render.js';
import type { CommandContext } from '../cli.js';
import { createLogger } from '../log.js';

interface InitArgs {
  dataset: string;
  output?: string | undefined;
  name?: string | undefined;
  target?: string[] | undefined;
  format?: DataFormat | undefined;
  force?: boolean | undefined;
  quiet?: boolean | undefined;
}

export function initCommand(context: CommandContext): CommandModule<object, InitArgs> {
  return {
    command: 'init <dataset>',
    describe: 'inspects a dataset and writes a commented pipeline config that runs as-is on the local emulator',
    builder: (yargs) =>
      yargs
        .positional('dataset', { type: 'string', demandOption: true, describe: 'a CSV, JSONL, JSON or Parquet file' })
        .option('output', { type: 'string', alias: 'o', describe: 'the config file to write (default pipelines/<name>.yaml)' })
        .option('name', { type: 'string', describe: 'pipeline name (default <dataset>-<targets>)' })
        .option('target', { type: 'string', array: true, describe: 'target language(s) (default ko); repeat or comma-separate' })
        .option('format', { choices: FORMATS, describe: 'dataset format (default from the extension)' })
        .option('force', { type: 'boolean', describe: 'overwrite an existing config' })
        .option('quiet', { type: 'boolean', alias: 'q', describe: 'only warnings and errors on stderr' }) as never,
    handler: async (args) => {
      const log = createLogger(context.io, { quiet: args.quiet ?? false });
      const targets = (args.target ?? [])
        .flatMap((value) => String(value).split(','))
        .map((value) => value.trim())
        .filter(Boolean);
      const result = await initPipeline(args.dataset, {
        ...(args.output !== undefined ? { output: args.output } : {}),
        ...(args.name !== undefined ? { name: args.name } : {}),
        ...(targets.length > 0 ? { targets } : {}),
        ...(args.format !== undefined ? { format: args.format } : {}),
        force: args.force ?? false,
      });
      log.info(`inspected ${result.rowsSampled} row(s):`);
      for (const survey of fieldSurvey(result.verdicts)) log.info(`  ${survey}`);
      log.info(`fields: ${result.fields.join(', ')}${result.idField ? `; id: ${result.idField}` : ''}`);
      log.out(result.configPath);
    },
  };
}
