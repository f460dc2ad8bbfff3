import type { CommandModule } from 'yargs';
import type { CommandContext } from '../cli.js';
import { inWorkspace, type PipelineArgs, withPipelineArgs } from '../common.js';

export function statusCommand(context: CommandContext): CommandModule<object, PipelineArgs> {
  return {
    command: 'status <pipeline>',
    describe: "each batch's state and request counts; rows done / pending / rejected",
    builder: (yargs) => withPipelineArgs(yargs),
    handler: async (args) => {
      await inWorkspace(context.io, args, { readOnly: true }, async (workspace, log, config) => {
        const { state } = workspace;
        const prepared = state.getMeta('prepared');
        const rows = state.rowStatusCounts(prepared ? (JSON.parse(prepared) as { rows: number }).rows : 0);
        const status = {
          run_dir: config.runDir,
          prepared: prepared !== undefined,
          finished: state.getMeta('finished') !== undefined,
          rows,
          requests: state.requestCounts(),
          batches: state.shards().map((shard) => ({
            shard: shard.number,
            attempt: shard.attempt,
            lines: shard.lines,
            state: shard.status,
            batch_id: shard.batch_id,
            batch_status: shard.batch_status,
            completed: shard.completed,
            failed: shard.failed,
          })),
        };
        if (args.json) {
          log.out(JSON.stringify(status));
          return;
        }
        log.out(`run dir   ${config.runDir}${status.finished ? ' (finished)' : status.prepared ? '' : ' (not prepared yet)'}`);
        log.out(`rows      ${rows.done} done, ${rows.pending} pending, ${rows.rejected} rejected`);
        const r = status.requests;
        log.out(`requests  ${r.done} done, ${r.queued} in batches, ${r.retry} to retry, ${r.rejected} rejected`);
        for (const b of status.batches) {
          const counts = b.batch_status ? ` ${b.completed}/${b.lines} completed, ${b.failed} failed` : '';
          log.out(
            `  shard ${b.shard} (attempt ${b.attempt}, ${b.lines} lines): ${b.state}${b.batch_id ? ` ${b.batch_id} ${b.batch_status ?? ''}` : ''}${counts}`,
          );
        }
      });
    },
  };
}
