/**
 * The provider behind a pipeline: an `openai` SDK client for OpenAI or any
 * compatible base URL, an `AzureOpenAI` client for Azure OpenAI
 * (`provider.kind: azure`), or the embedded emulator (`provider.kind: local`),
 * started in a worker thread of this process (its own core) on a free
 * loopback port with a one-off key. The API key
 * is read from the environment here and nowhere else.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import OpenAI, { AzureOpenAI, type ClientOptions } from 'openai';

type AzureClientOptions = NonNullable<ConstructorParameters<typeof AzureOpenAI>[0]>;

import type { PipelineConfig } from '../config/types.js';
import { loadFaultPlan } from '../emulator/faults.js';
import { startEmulatorThread } from '../emulator/thread.js';
import { TransbatchError } from '../errors.js';

/** The first GA Azure OpenAI api-version with the Batch API. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

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
  if (config.provider.kind === 'local') return openLocalProvider(config, env);
  const apiKey = readKey(config, env);
  if (config.provider.kind === 'azure') return openAzureProvider(config, env, apiKey);
  const baseURL = config.provider.base_url ?? env['OPENAI_BASE_URL'];
  const client = new OpenAI({ apiKey, ...(baseURL ? { baseURL } : {}) });
  return { client, describe: baseURL ?? 'https://api.openai.com/v1', secrets: [apiKey], close: async () => {} };
}

function readKey(config: PipelineConfig, env: NodeJS.ProcessEnv): string {
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
  return apiKey;
}

/** Per-deployment inference paths (AzureOpenAI prefixes them with `/deployments/{model}`). */
const DEPLOYMENT_PATHS = new Set(['/chat/completions', '/completions', '/embeddings']);

/**
 * `AzureOpenAI` never gets the SDK's `deployment` option: with it, the SDK
 * would also send `/batches` to `/deployments/{deployment}/batches`, which
 * Azure does not serve. Files and batches stay on `{endpoint}/openai/…`; a
 * direct call goes to `/deployments/{body.model}/…`, and with
 * `provider.deployment` set the body's model is replaced by it first.
 */
export class TransbatchAzureOpenAI extends AzureOpenAI {
  private readonly fixedDeployment: string | undefined;

  constructor(options: AzureClientOptions & { transbatchDeployment?: string | undefined }) {
    const { transbatchDeployment, ...rest } = options;
    // `withOptions` (used by the pipeline for per-call settings) re-creates the client from
    // its stored options, which carry the api-version only in `defaultQuery`.
    const apiVersion = rest.apiVersion ?? (rest.defaultQuery?.['api-version'] as string | undefined);
    super({ ...rest, ...(apiVersion ? { apiVersion } : {}) });
    this.fixedDeployment = transbatchDeployment;
  }

  override withOptions(options: Partial<ClientOptions>): this {
    return super.withOptions({ ...options, transbatchDeployment: this.fixedDeployment } as Partial<ClientOptions>);
  }

  override async buildRequest(options: Parameters<AzureOpenAI['buildRequest']>[0], props: { retryCount?: number } = {}) {
    const body = options.body;
    if (
      this.fixedDeployment !== undefined &&
      options.method === 'post' &&
      DEPLOYMENT_PATHS.has(options.path) &&
      body !== null &&
      typeof body === 'object' &&
      !Array.isArray(body) &&
      !ArrayBuffer.isView(body)
    ) {
      return super.buildRequest({ ...options, body: { ...(body as Record<string, unknown>), model: this.fixedDeployment } }, props);
    }
    return super.buildRequest(options, props);
  }
}

function openAzureProvider(config: PipelineConfig, env: NodeJS.ProcessEnv, apiKey: string): Provider {
  const endpoint = config.provider.endpoint ?? env['AZURE_OPENAI_ENDPOINT'];
  if (!endpoint) {
    throw new TransbatchError(
      'config',
      `provider.kind azure needs provider.endpoint (e.g. https://my-resource.openai.azure.com) or the AZURE_OPENAI_ENDPOINT environment variable (${config.configPath})`,
      { file: config.configPath },
    );
  }
  const apiVersion = config.provider.api_version ?? AZURE_DEFAULT_API_VERSION;
  // `{endpoint}/openai` as the SDK builds it, passed as baseURL: given `endpoint`, the SDK
  // would also read OPENAI_BASE_URL from process.env and refuse the pair.
  const baseURL = `${endpoint.replace(/\/+$/, '')}/openai`;
  const client = new TransbatchAzureOpenAI({ baseURL, apiKey, apiVersion, transbatchDeployment: config.provider.deployment });
  const deployment = config.provider.deployment ?? config.model;
  return {
    client,
    describe: `Azure OpenAI at ${endpoint.replace(/\/+$/, '')} (deployment ${deployment}, api-version ${apiVersion})`,
    secrets: [apiKey],
    close: async () => {},
  };
}

async function openLocalProvider(config: PipelineConfig, env: NodeJS.ProcessEnv): Promise<Provider> {
  const apiKey = `local-${randomBytes(12).toString('hex')}`;
  const upstreamKeyName = config.provider.upstream_api_key_env;
  const upstreamApiKey = upstreamKeyName ? env[upstreamKeyName] : undefined;
  if (upstreamKeyName && !upstreamApiKey) {
    throw new TransbatchError(
      'auth',
      `no upstream API key: set the environment variable ${upstreamKeyName} (provider.upstream_api_key_env in ${config.configPath})`,
      { file: config.configPath },
    );
  }
  const faults = config.provider.faults ? await loadFaultPlan(join(config.configDir, config.provider.faults)) : undefined;
  const emulator = await startEmulatorThread({
    dataDir: join(config.runDir, EMULATOR_DIR),
    apiKey,
    engine: config.provider.engine,
    ...(config.provider.upstream_url ? { upstreamUrl: config.provider.upstream_url } : {}),
    ...(upstreamApiKey ? { upstreamApiKey } : {}),
    ...(faults ? { faults } : {}),
  });
  const client = new OpenAI({ apiKey, baseURL: emulator.url });
  const secrets = upstreamApiKey ? [apiKey, upstreamApiKey] : [apiKey];
  return { client, describe: `the embedded emulator (${config.provider.engine} engine)`, secrets, close: () => emulator.close() };
}
