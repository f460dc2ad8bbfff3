/**
 * The command line: one yargs module per command (commands/), and the one
 * error boundary that turns errors into SPEC.md's exit codes. `runCli` runs
 * in-process so tests can drive it without spawning.
 */
import { APIConnectionError, APIError, AuthenticationError, PermissionDeniedError } from 'openai';
import yargs from 'yargs';
import { isTransbatchError, TransbatchError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { batchesCommand, filesCommand } from './commands/account.js';
import { cancelCommand } from './commands/cancel.js';
import { estimateCommand } from './commands/estimate.js';
import { initCommand } from './commands/init.js';
import { mergeCommand } from './commands/merge.js';
import { prepareCommand } from './commands/prepare.js';
import { reviewCommand } from './commands/review.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { type CliIo, EXIT, type ExitCode } from './context.js';

export interface CommandContext {
  io: CliIo;
  setExitCode(code: ExitCode): void;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const context: CommandContext = { io, setExitCode: (code) => (exitCode = code) };
  const cli = yargs([...argv])
    .scriptName('transbatch')
    .usage('$0 <command> [options]\n\nTranslate datasets with LLMs through the OpenAI Batch API.')
    .command(runCommand(context))
    .command(estimateCommand(context))
    .command(prepareCommand(context))
    .command(statusCommand(context))
    .command(reviewCommand(context))
    .command(initCommand(context))
    .command(cancelCommand(context))
    .command(mergeCommand(context))
    .command(batchesCommand(context))
    .command(filesCommand(context))
    .command(serveCommand)
    .demandCommand(1, 'name a command (see --help)')
    .recommendCommands()
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new TransbatchError('usage', message);
    })
    .help()
    .version(TOOL_VERSION)
    // No hard wrapping: cliui cuts words in half; the terminal wraps long lines better.
    .wrap(null);
  try {
    await cli.parseAsync();
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

/** One paragraph for errors a user can fix; a stack only for bugs. */
export function reportError(error: unknown, io: CliIo): number {
  const known = asTransbatchError(error);
  if (known) {
    io.stderr.write(`error: ${known.where}${known.message}\n`);
    return known.exitCode;
  }
  io.stderr.write(
    `internal error (a bug in transbatch, please report it):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT.failed;
}

/** SDK errors users cause (bad key, refusal, unreachable endpoint) become TransbatchErrors. */
function asTransbatchError(error: unknown): TransbatchError | undefined {
  if (isTransbatchError(error)) return error;
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    return new TransbatchError('auth', `the API refused the key (${error.status}): ${firstLine(error.message)}`);
  }
  if (error instanceof APIConnectionError) return new TransbatchError('api', `cannot reach the API: ${firstLine(error.message)}`);
  if (error instanceof APIError)
    return new TransbatchError('api', `the API refused a request (${error.status ?? 'no status'}): ${firstLine(error.message)}`);
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
