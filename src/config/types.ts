import type { DataFormat, ParsedPipelineConfig } from './schema.js';

export interface ResolvedOutput {
  /** Absolute; `{name}` expanded, `{lang}` kept for per-language files. */
  path: string;
  format: DataFormat;
  mode: 'replace' | 'columns';
}

/** The fully resolved config that flows everywhere after loading. */
export interface PipelineConfig extends Omit<ParsedPipelineConfig, 'input' | 'output' | 'run_dir' | '$schema'> {
  configPath: string;
  configDir: string;
  input: { path: string; format: DataFormat; id?: string };
  outputs: ResolvedOutput[];
  runDir: string;
  /** null when the response cache is disabled. */
  cacheDir: string | null;
}
