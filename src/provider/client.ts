/**
 * The provider behind a pipeline: an `openai` SDK client for OpenAI or any
 * compatible base URL, or the embedded emulator (`provider.kind: local`),
 * started in-process on a free loopback port with a one-off key. The API key
 * is read from the environment here and nowhere else.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { PipelineConfig } from '../config/types.js';
import { loadFaultPlan } from '../emulator/faults.js';
import { startEmulator } from '../emulator/index.js';
import { TransbatchError } from '../errors.js';

export interface Provider {
  client: OpenAI;
  /** Where requests go, for messages (never includes the key). */
  describe: string;
  /** Secrets to redact from anything printed. */
  secrets: string[];
  close(): Promise<void>;
}

export const EMULATOR_DIR = 'emulator';

export async function openProvider(config: PipelineConfig, env: NodeJS.ProcessEnv): Promise<Provider> {
  if (config.provider.kind === 'local') return openLocalProvider(config);
  const keyName = config.provider.api_key_env;
  const apiKey = env[keyName];
  if (!apiKey) {
    throw new TransbatchError(
      'auth',
      `no API key: set the environment variable ${keyName} (provider.api_key_env in ${config.configPath})`,
      {
        file: config.configPath,
      },
    );
  }
  const baseURL = config.provider.base_url ?? env['OPENAI_BASE_URL'];
  const client = new OpenAI({ apiKey, ...(baseURL ? { baseURL } : {}) });
  return { client, describe: baseURL ?? 'https://api.openai.com/v1', secrets: [apiKey], close: async () => {} };
}

async function openLocalProvider(config: PipelineConfig): Promise<Provider> {
  const apiKey = `local-${randomBytes(12).toString('hex')}`;
  const faults = config.provider.faults ? await loadFaultPlan(join(config.configDir, config.provider.faults)) : undefined;
  const emulator = await startEmulator({
    dataDir: join(config.runDir, EMULATOR_DIR),
    apiKey,
    engine: config.provider.engine,
    ...(config.provider.upstream_url ? { upstreamUrl: config.provider.upstream_url } : {}),
    ...(faults ? { faults } : {}),
  });
  const client = new OpenAI({ apiKey, baseURL: emulator.url });
  return { client, describe: `the embedded emulator (${config.provider.engine} engine)`, secrets: [apiKey], close: () => emulator.close() };
}
