import type { CommandModule } from 'yargs';
import { mergeAndReport } from '../../run/pipeline.js';
import { TOOL_VERSION } from '../../version.js';
import type { CommandContext } from '../cli.js';
import { inWorkspace, type PipelineArgs, withPipelineArgs } from '../common.js';
import { describeFinished } from '../summary.js';

export function mergeCommand(context: CommandContext): CommandModule<object, PipelineArgs> {
  return {
    command: 'merge <pipeline>',
    describe: 'rewrites the outputs from what is already collected (rows still pending are listed as rejects)',
    builder: (yargs) => withPipelineArgs(yargs),
    handler: async (args) => {
      await inWorkspace(context.io, args, {}, async (workspace, log, config) => {
        if (!workspace.state.getMeta('prepared')) {
          log.out('nothing to merge: the run has not been prepared yet (`transbatch run` first)');
          return;
        }
        const { report, merge } = await mergeAndReport(workspace, TOOL_VERSION);
        if (args.json) log.out(JSON.stringify(report));
        else for (const line of describeFinished(config, report, merge)) log.out(line);
      });
    },
  };
}
