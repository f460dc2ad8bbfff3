import type { CommandModule } from 'yargs';
import { writeReview } from '../../review/review.js';
import type { CommandContext } from '../cli.js';
import { configFromArgs, type PipelineArgs, withPipelineArgs } from '../common.js';
import { createLogger } from '../log.js';

interface ReviewArgs extends PipelineArgs {
  sample?: number | undefined;
  'max-flagged'?: number | undefined;
}

export function reviewCommand(context: CommandContext): CommandModule<object, ReviewArgs> {
  return {
    command: 'review <pipeline>',
    describe: 'writes <run_dir>/review.html: source and translation side by side, flagged and rejected rows first',
    builder: (yargs) =>
      withPipelineArgs(yargs)
        .option('sample', { type: 'number', default: 200, describe: 'unflagged rows to show (a deterministic sample)' })
        .option('max-flagged', { type: 'number', default: 2000, describe: 'rejected, retried or altered rows to show at most' }) as never,
    handler: async (args) => {
      const log = createLogger(context.io, { quiet: args.quiet ?? false });
      const config = configFromArgs(args, context.io.env);
      const { path, summary } = await writeReview(config, {
        ...(args.sample !== undefined ? { sample: args.sample } : {}),
        ...(args['max-flagged'] !== undefined ? { maxFlagged: args['max-flagged'] } : {}),
        onProgress: (rows) => log.info(`reviewed ${rows} rows`),
      });
      const { shown } = summary;
      if (args.json) {
        log.out(
          JSON.stringify({
            path,
            rows_in: summary.rowsIn,
            flagged: shown.flaggedTotal,
            shown_flagged: shown.flagged,
            shown_sampled: shown.sampled,
          }),
        );
        return;
      }
      log.info(`${summary.rowsIn} rows; showing ${shown.flagged} flagged (of ${shown.flaggedTotal}) and ${shown.sampled} sampled`);
      log.out(path);
    },
  };
}
