/**
 * What makes a run the same run: the input's bytes and every config key that
 * shapes the requests. Output settings are left out on purpose: changing
 * only where or how the result is written re-merges without a new run.
 */
import { createHash } from 'node:crypto';
import type { PipelineConfig } from '../config/types.js';

export function runIdentity(config: PipelineConfig, inputSha256: string): string {
  const shaping = {
    input: { format: config.input.format, id: config.input.id ?? null, sha256: inputSha256 },
    fields: config.fields,
    source_language: config.source_language ?? null,
    target_languages: config.target_languages,
    language_names: config.language_names,
    language_notes: config.language_notes,
    model: config.model,
    request: config.request,
    prompt: config.prompt,
    split: config.split,
    checks: config.checks,
    check_options: config.check_options,
    provider: {
      kind: config.provider.kind,
      base_url: config.provider.base_url ?? null,
      // Azure: another resource, deployment or API version is another run (batches live per resource).
      endpoint: config.provider.endpoint ?? null,
      deployment: config.provider.deployment ?? null,
      api_version: config.provider.api_version ?? null,
    },
    batch: { max_requests_per_file: config.batch.max_requests_per_file, max_bytes_per_file: config.batch.max_bytes_per_file },
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 32);
}
