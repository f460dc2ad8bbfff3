/** `transbatch serve`: runs the local Batch API emulator until SIGINT/SIGTERM. */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadFaultPlan, startEmulator } from '../../emulator/index.js';
import type { EngineName } from '../../emulator/types.js';

interface ServeArgs {
  port: number;
  'data-dir': string;
  engine: EngineName;
  'upstream-url'?: string | undefined;
  faults?: string | undefined;
  'api-key'?: string | undefined;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'the local OpenAI-compatible Batch API emulator on 127.0.0.1 (files, uploads, batches, chat, embeddings)',
  builder: (yargs) =>
    yargs
      .option('port', { type: 'number', default: 8787, describe: 'Port to listen on (0 = any free port)' })
      .option('data-dir', { type: 'string', default: '.transbatch-emulator', describe: 'Where files and batches are stored' })
      .option('engine', {
        choices: ['pseudo', 'echo', 'upstream'] as const,
        default: 'pseudo' as EngineName,
        describe: 'How requests are answered',
      })
      .option('upstream-url', {
        type: 'string',
        describe: 'OpenAI-compatible base URL for --engine upstream (e.g. http://localhost:11434/v1)',
      })
      .option('faults', { type: 'string', describe: 'Fault plan file (YAML or JSON)' })
      .option('api-key', { type: 'string', describe: 'Bearer key clients must send (default $TRANSBATCH_EMULATOR_KEY, else random)' }),
  handler: async (args) => {
    const apiKey = args['api-key'] ?? process.env['TRANSBATCH_EMULATOR_KEY'] ?? `tb-local-${randomBytes(12).toString('hex')}`;
    if (args.engine === 'upstream' && !args['upstream-url']) throw new Error('--engine upstream needs --upstream-url');
    const emulator = await startEmulator({
      port: args.port,
      dataDir: resolve(args['data-dir']),
      apiKey,
      engine: args.engine,
      keepEvents: false,
      ...(args['upstream-url'] ? { upstreamUrl: args['upstream-url'] } : {}),
      ...(args.faults ? { faults: await loadFaultPlan(resolve(args.faults)) } : {}),
    });
    process.stdout.write(`OPENAI_BASE_URL=${emulator.url}\nOPENAI_API_KEY=${apiKey}\n`);
    process.stderr.write(`transbatch emulator (${args.engine}) listening on ${emulator.url}; Ctrl-C to stop\n`);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await emulator.close();
    process.stderr.write('transbatch emulator stopped\n');
  },
};
