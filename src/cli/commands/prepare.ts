import type { CommandModule } from 'yargs';
import { ensurePrepared } from '../../run/workspace.js';
import type { CommandContext } from '../cli.js';
import { inWorkspace, type PipelineArgs, withPipelineArgs } from '../common.js';

export function prepareCommand(context: CommandContext): CommandModule<object, PipelineArgs & { fresh?: boolean | undefined }> {
  return {
    command: 'prepare <pipeline>',
    describe: 'split + build only: write the request shards into the run dir for inspection',
    builder: (yargs) =>
      withPipelineArgs(yargs).option('fresh', { type: 'boolean', describe: 'discard the run state first (keeps the response cache)' }),
    handler: async (args) => {
      await inWorkspace(context.io, args, { fresh: args.fresh ?? false }, async (workspace, log, config) => {
        const summary = await ensurePrepared(workspace);
        const shards = workspace.state.shards();
        if (args.json) {
          log.out(
            JSON.stringify({
              ...summary,
              run_dir: config.runDir,
              shards: shards.map((s) => ({ path: s.path, lines: s.lines, bytes: s.bytes })),
            }),
          );
          return;
        }
        log.info(
          `${summary.rows} rows → ${summary.units} units → ${summary.requests} requests (${summary.deduplicated} deduplicated, ${summary.cached} cached)`,
        );
        for (const shard of shards) log.info(`  ${shard.path}  ${shard.lines} lines, ${shard.bytes} bytes`);
        log.out(`prepared ${shards.length} shard(s) in ${config.runDir}`);
      });
    },
  };
}
