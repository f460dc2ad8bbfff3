import type { CommandModule } from 'yargs';
import { describeEstimate, estimateCost } from '../../cost/estimate.js';
import { ensurePrepared } from '../../run/workspace.js';
import type { CommandContext } from '../cli.js';
import { inWorkspace, type PipelineArgs, withPipelineArgs } from '../common.js';

export function estimateCommand(context: CommandContext): CommandModule<object, PipelineArgs> {
  return {
    command: 'estimate <pipeline>',
    describe: 'requests, input tokens, expected output tokens and cost (batch vs sync); submits nothing',
    builder: (yargs) => withPipelineArgs(yargs),
    handler: async (args) => {
      await inWorkspace(context.io, args, {}, async (workspace, log, config) => {
        const prepared = await ensurePrepared(workspace, undefined, { exactTokens: true });
        const estimate = estimateCost(config, workspace.state, prepared, { exact: true });
        if (args.json) log.out(JSON.stringify(estimate));
        else for (const line of describeEstimate(estimate)) log.out(line);
      });
    },
  };
}
