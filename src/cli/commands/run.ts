import type { CommandModule } from 'yargs';
import { parseDurationMs } from '../../config/units.js';
import { type CostEstimate, formatUsd } from '../../cost/estimate.js';
import { TransbatchError } from '../../errors.js';
import { askYesNo, confirmDecision } from '../../run/confirm.js';
import { runPipeline } from '../../run/pipeline.js';
import { TOOL_VERSION } from '../../version.js';
import type { CommandContext } from '../cli.js';
import { configFromArgs, type PipelineArgs, withPipelineArgs } from '../common.js';
import { EXIT } from '../context.js';
import { colourEnabled, createLogger } from '../log.js';
import { createProgress } from '../progress.js';
import { describeFinished } from '../summary.js';

interface RunArgs extends PipelineArgs {
  wait?: boolean | undefined;
  fresh?: boolean | undefined;
  'poll-interval'?: string | undefined;
  'max-cost'?: number | undefined;
  yes?: boolean | undefined;
}

export function runCommand(context: CommandContext): CommandModule<object, RunArgs> {
  return {
    command: 'run <pipeline>',
    describe: 'the whole pipeline; resumes an existing run',
    builder: (yargs) =>
      withPipelineArgs(yargs)
        .option('wait', { type: 'boolean', default: true, describe: 'wait for the batches (--no-wait submits and returns with exit 3)' })
        .option('fresh', { type: 'boolean', describe: 'discard the run state first (keeps the response cache)' })
        .option('poll-interval', { type: 'string', describe: 'seconds between polls (or 500ms, 30s, 2m); default batch.poll_interval' })
        .option('max-cost', {
          type: 'number',
          describe: 'refuse to submit when the estimated batch cost (USD) is above this (default cost.max_cost_usd); the guard for scripts',
        })
        .option('yes', {
          type: 'boolean',
          alias: 'y',
          describe: 'do not ask for confirmation when the estimate is above cost.confirm_above_usd (asked on a terminal only)',
        }) as never,
    handler: async (args) => {
      const secrets: string[] = [];
      const progress = createProgress({
        stream: context.io.stderr,
        tty: context.io.isTty,
        quiet: args.quiet ?? false,
        colour: colourEnabled(context.io),
      });
      const log = createLogger(context.io, { quiet: args.quiet ?? false, secrets, writeLine: progress.log });
      const config = configFromArgs(args, context.io.env);
      let pollIntervalMs: number | undefined;
      if (args['poll-interval'] !== undefined) {
        pollIntervalMs = parseDurationMs(
          /^\d+(\.\d+)?$/.test(args['poll-interval']) ? Number(args['poll-interval']) : args['poll-interval'],
        );
        if (pollIntervalMs === undefined)
          throw new TransbatchError('usage', `--poll-interval: expected seconds or a duration like 500ms, got ${args['poll-interval']}`);
      }
      const maxCostUsd = args['max-cost'] ?? config.cost.max_cost_usd;
      const confirmCost = async (estimate: CostEstimate): Promise<boolean> => {
        const decision = confirmDecision({
          estimateUsd: estimate.batchUsd,
          thresholdUsd: config.cost.confirm_above_usd,
          isTty: context.io.isTty,
          yes: args.yes ?? false,
        });
        if (decision.kind === 'proceed') return true;
        return askYesNo(decision.question, { input: process.stdin, output: context.io.stderr, signal: context.io.signal });
      };
      const result = await runPipeline(config, {
        env: context.io.env,
        signal: context.io.signal,
        fresh: args.fresh ?? false,
        noWait: args.wait === false,
        ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
        ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
        confirmCost,
        log: log.info,
        progress,
        toolVersion: TOOL_VERSION,
        onSecrets: (found) => secrets.push(...found),
      });
      if (result.kind === 'pending') {
        log.info(
          result.reason === 'no-wait'
            ? 'Batches submitted. Run the same command again to wait for them and finish.'
            : 'Stopped waiting; nothing was cancelled. Run the same command again to continue.',
        );
        if (args.json) log.out(JSON.stringify({ status: 'pending', run_dir: config.runDir }));
        context.setExitCode(EXIT.pending);
        return;
      }
      const rejected = Object.values(result.merge.rejectsByReason).reduce((sum, n) => sum + n, 0);
      if (args.json)
        log.out(JSON.stringify({ status: 'finished', already_done: result.alreadyDone, run_dir: config.runDir, report: result.report }));
      else {
        if (result.alreadyDone) log.info('This run already finished; nothing to do.');
        for (const line of describeFinished(config, result.report, result.merge)) log.out(line);
        if (result.report.cost_usd_batch !== null && !result.alreadyDone)
          log.info(
            `cost at batch prices: ${formatUsd(result.report.cost_usd_batch)}` +
              (result.report.cost_usd_estimated !== null ? ` (estimated ${formatUsd(result.report.cost_usd_estimated)})` : ''),
          );
      }
      context.setExitCode(rejected > 0 ? EXIT.rejected : EXIT.ok);
    },
  };
}
