import type { CommandModule } from 'yargs';
import { openProvider } from '../../provider/client.js';
import type { CommandContext } from '../cli.js';
import { inWorkspace, type PipelineArgs, withPipelineArgs } from '../common.js';

export function cancelCommand(context: CommandContext): CommandModule<object, PipelineArgs> {
  return {
    command: 'cancel <pipeline>',
    describe: "cancels the run's in-flight batches (their finished requests are kept on the next run)",
    builder: (yargs) => withPipelineArgs(yargs),
    handler: async (args) => {
      const secrets: string[] = [];
      await inWorkspace(context.io, args, { secrets }, async (workspace, log, config) => {
        const inFlight = workspace.state.shards().filter((shard) => shard.status === 'submitted' && shard.batch_id);
        if (inFlight.length === 0) {
          log.out('no batches in flight');
          return;
        }
        const provider = await openProvider(config, context.io.env);
        secrets.push(...provider.secrets);
        try {
          const cancelled: string[] = [];
          for (const shard of inFlight) {
            const batch = await provider.client.batches.cancel(shard.batch_id!);
            workspace.state.updateShard(shard.number, { batch_status: batch.status });
            workspace.state.event('batch.cancel', { shard: shard.number, batch_id: batch.id, status: batch.status });
            cancelled.push(batch.id);
            log.info(`  ${batch.id} (shard ${shard.number}): ${batch.status}`);
          }
          if (args.json) log.out(JSON.stringify({ cancelled }));
          else log.out(`cancelled ${cancelled.length} batch(es); \`transbatch run\` collects what they finished and sends the rest again`);
        } finally {
          await provider.close();
        }
      });
    },
  };
}
