/** `batches list|get|cancel` and `files content`: thin helpers over the account's Batch and Files API. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import OpenAI from 'openai';
import type { Argv, CommandModule } from 'yargs';
import { TransbatchError } from '../../errors.js';
import type { CommandContext } from '../cli.js';

interface AccountArgs {
  'base-url'?: string | undefined;
  'api-key-env': string;
}

function withAccountArgs<T>(yargs: Argv<T>): Argv<T & AccountArgs> {
  return yargs
    .option('base-url', { type: 'string', describe: 'API base URL (default: $OPENAI_BASE_URL, else OpenAI)' })
    .option('api-key-env', {
      type: 'string',
      default: 'OPENAI_API_KEY',
      describe: 'environment variable holding the API key',
    }) as unknown as Argv<T & AccountArgs>;
}

function clientFor(args: AccountArgs, env: NodeJS.ProcessEnv): OpenAI {
  const apiKey = env[args['api-key-env']];
  if (!apiKey) throw new TransbatchError('auth', `no API key: set the environment variable ${args['api-key-env']}`);
  const baseURL = args['base-url'] ?? env['OPENAI_BASE_URL'];
  return new OpenAI({ apiKey, ...(baseURL ? { baseURL } : {}) });
}

export function batchesCommand(context: CommandContext): CommandModule<object, AccountArgs> {
  const print = (value: unknown): void => {
    context.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  return {
    command: 'batches <action>',
    describe: "the account's batches: list [--limit N], get <id>, cancel <id>",
    builder: (yargs) =>
      withAccountArgs(yargs)
        .command<AccountArgs & { limit: number }>(
          'list',
          'newest batches first',
          (y) => y.option('limit', { type: 'number', default: 20, describe: 'how many (1–100 per page; more pages are followed)' }),
          async (args) => {
            const client = clientFor(args, context.io.env);
            const batches = [];
            for await (const batch of client.batches.list({ limit: Math.min(Math.max(args.limit, 1), 100) })) {
              batches.push(batch);
              if (batches.length >= args.limit) break;
            }
            print(batches);
          },
        )
        .command<AccountArgs & { id: string }>(
          'get <id>',
          'one batch',
          (y) => y.positional('id', { type: 'string', demandOption: true }),
          async (args) => {
            print(await clientFor(args, context.io.env).batches.retrieve(args.id));
          },
        )
        .command<AccountArgs & { id: string }>(
          'cancel <id>',
          'cancel one batch',
          (y) => y.positional('id', { type: 'string', demandOption: true }),
          async (args) => {
            print(await clientFor(args, context.io.env).batches.cancel(args.id));
          },
        )
        .demandCommand(1) as never,
    handler: () => {},
  };
}

export function filesCommand(context: CommandContext): CommandModule<object, AccountArgs> {
  return {
    command: 'files <action>',
    describe: "the account's files: content <id> (streamed to stdout)",
    builder: (yargs) =>
      withAccountArgs(yargs)
        .command<AccountArgs & { id: string }>(
          'content <id>',
          'stream a file to stdout',
          (y) => y.positional('id', { type: 'string', demandOption: true }),
          async (args) => {
            const response = await clientFor(args, context.io.env).files.content(args.id);
            if (response.body)
              await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), context.io.stdout, { end: false });
          },
        )
        .demandCommand(1) as never,
    handler: () => {},
  };
}
