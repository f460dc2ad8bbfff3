/**
 * The pipeline config schema: the single source of truth for keys, types and
 * defaults. `schema/pipeline.schema.json` is generated from it for editors.
 */
import { z } from 'zod';
import { parseByteSize, parseDurationMs } from './units.js';

export const FORMATS = ['csv', 'jsonl', 'json', 'parquet'] as const;
export type DataFormat = (typeof FORMATS)[number];

export const PROTECT_KINDS = ['code', 'urls', 'emails', 'placeholders', 'html', 'math'] as const;
export type ProtectKind = (typeof PROTECT_KINDS)[number];

export const CHECK_NAMES = ['nonempty', 'not_truncated', 'placeholders', 'language', 'unchanged', 'length_ratio'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 30, "500ms", "30s" or "2m", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});

const byteSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const bytes = parseByteSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size like 190MB or 1000000, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return bytes;
});

/** BCP-47-ish: letters, digits and hyphens, short enough to fit a custom_id. */
const languageCode = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'expected a BCP-47 language code like "ko" or "pt-BR"')
  .max(24);

const fieldPath = z
  .string()
  .min(1)
  .regex(/^[^.[\]]+(\.[^.[\]]+|\[(\*|\d+)\])*$/, 'expected a field path like "instruction", "meta.title" or "messages[*].content"');

const outputSchema = z.strictObject({
  path: z.string().min(1),
  format: z.enum(FORMATS).optional(),
  mode: z.enum(['replace', 'columns']).default('replace'),
});

export const pipelineSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected letters, digits, ".", "_" or "-" (at most 64)'),
  input: z.strictObject({
    path: z.string().min(1),
    format: z.enum(FORMATS).optional(),
    id: z.string().min(1).optional(),
  }),
  fields: z.array(fieldPath).min(1),
  source_language: languageCode.optional(),
  target_languages: z.array(languageCode).min(1),
  language_names: z.record(z.string(), z.string().min(1)).default({}),
  language_notes: z.record(z.string(), z.string().min(1)).default({}),
  model: z.string().min(1),
  request: z.record(z.string(), z.unknown()).default({}),
  prompt: z
    .strictObject({
      system: z.string().min(1).optional(),
      user: z.string().min(1).optional(),
      glossary: z.record(z.string().min(1), z.string()).default({}),
      examples: z
        .array(z.strictObject({ source: z.string().min(1), target: z.string().min(1), lang: languageCode.optional() }))
        .default([]),
    })
    .default({ glossary: {}, examples: [] }),
  split: z
    .strictObject({
      max_chunk_tokens: z.number().int().min(16).default(1500),
      protect: z.array(z.enum(PROTECT_KINDS)).default([...PROTECT_KINDS]),
      dedupe: z.boolean().default(true),
      pack: z.enum(['none', 'row']).default('none'),
    })
    .default({ max_chunk_tokens: 1500, protect: [...PROTECT_KINDS], dedupe: true, pack: 'none' }),
  provider: z
    .strictObject({
      kind: z.enum(['openai', 'azure', 'local']).default('openai'),
      base_url: z.url().optional(),
      /** Default: OPENAI_API_KEY, or AZURE_OPENAI_API_KEY with kind azure. */
      api_key_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
        .optional(),
      /** Azure: the resource endpoint, e.g. https://my-resource.openai.azure.com (else AZURE_OPENAI_ENDPOINT). */
      endpoint: z.url().optional(),
      /** Azure: the `api-version` query parameter (default 2024-10-21, the first GA version with the Batch API). */
      api_version: z.string().min(1).optional(),
      /** Azure: the deployment that serves the requests (default: `model`, i.e. the deployment is named like the model). */
      deployment: z.string().min(1).optional(),
      engine: z.enum(['pseudo', 'echo', 'upstream']).default('pseudo'),
      upstream_url: z.url().optional(),
      /** kind local, engine upstream: the environment variable holding the upstream's key (Ollama needs none). */
      upstream_api_key_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
        .optional(),
      faults: z.string().optional(),
    })
    .transform(({ api_key_env, ...provider }) => ({
      ...provider,
      api_key_env: api_key_env ?? (provider.kind === 'azure' ? 'AZURE_OPENAI_API_KEY' : 'OPENAI_API_KEY'),
    }))
    .default({ kind: 'openai', api_key_env: 'OPENAI_API_KEY', engine: 'pseudo' }),
  mode: z.enum(['batch', 'sync', 'auto']).default('batch'),
  batch: z
    .strictObject({
      completion_window: z.literal('24h').default('24h'),
      max_requests_per_file: z.number().int().min(1).max(100_000).default(50_000),
      max_bytes_per_file: byteSize.default(190_000_000),
      max_in_flight: z.number().int().min(1).default(10),
      max_enqueued_tokens: z.number().int().min(1).optional(),
      poll_interval: duration.default(30_000),
      min_requests: z.number().int().min(0).default(100),
    })
    .default({
      completion_window: '24h',
      max_requests_per_file: 50_000,
      max_bytes_per_file: 190_000_000,
      max_in_flight: 10,
      poll_interval: 30_000,
      min_requests: 100,
    }),
  sync: z
    .strictObject({
      concurrency: z.number().int().min(1).default(16),
      rpm: z.number().int().min(1).optional(),
      tpm: z.number().int().min(1).optional(),
    })
    .default({ concurrency: 16 }),
  retry: z.strictObject({ max_attempts: z.number().int().min(1).max(20).default(3) }).default({ max_attempts: 3 }),
  checks: z.array(z.enum(CHECK_NAMES)).default([...CHECK_NAMES]),
  check_options: z
    .strictObject({
      length_ratio: z
        .strictObject({ min: z.number().positive().default(0.2), max: z.number().positive().default(5) })
        .default({ min: 0.2, max: 5 }),
      language_min_chars: z.number().int().min(1).default(40),
    })
    .default({ length_ratio: { min: 0.2, max: 5 }, language_min_chars: 40 }),
  output: z.union([outputSchema, z.array(outputSchema).min(1)]),
  run_dir: z.string().min(1).optional(),
  cache: z.strictObject({ enabled: z.boolean().default(true), dir: z.string().min(1).optional() }).default({ enabled: true }),
  cost: z
    .strictObject({
      confirm_above_usd: z.number().min(0).optional(),
      max_cost_usd: z.number().min(0).optional(),
      output_ratio: z.record(z.string(), z.number().positive()).default({}),
      /** USD per million tokens at synchronous prices, for models the price table does not know. */
      price: z.strictObject({ input: z.number().min(0), output: z.number().min(0) }).optional(),
    })
    .default({ output_ratio: {} }),
});

/** The config as written (before defaults). */
export type PipelineConfigInput = z.input<typeof pipelineSchema>;
/** The config after validation and defaults, paths still as written. */
export type ParsedPipelineConfig = z.output<typeof pipelineSchema>;
