/**
 * Loads a pipeline config file (YAML or JSON), validates it against the one
 * schema and resolves it: absolute paths, formats from extensions, defaults
 * filled. Everything downstream trusts the result and re-checks nothing.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { TransbatchError } from '../errors.js';
import { type DataFormat, type ParsedPipelineConfig, pipelineSchema } from './schema.js';
import type { PipelineConfig, ResolvedOutput } from './types.js';

export function loadPipelineConfig(configPath: string, overrides: { runDir?: string; env?: NodeJS.ProcessEnv } = {}): PipelineConfig {
  const absolutePath = resolve(configPath);
  let text: string;
  try {
    text = readFileSync(absolutePath, 'utf8');
  } catch (error) {
    throw new TransbatchError('config', `cannot read pipeline config ${configPath}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      file: configPath,
    });
  }
  const { data, lineOf } = parseConfigText(text, configPath);
  const parsed = pipelineSchema.safeParse(data);
  if (!parsed.success) throw configError(parsed.error, configPath, lineOf);
  return resolvePipelineConfig(parsed.data, absolutePath, overrides);
}

/** Parses YAML (JSON is YAML) and keeps a way to map a key path back to its line. */
function parseConfigText(text: string, file: string): { data: unknown; lineOf: (path: PropertyKey[]) => number | undefined } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new TransbatchError(
      'config',
      `invalid YAML: ${firstError.message.split('\n')[0]}`,
      line === undefined ? { file } : { file, line },
    );
  }
  const lineOf = (path: PropertyKey[]): number | undefined => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
      // A key's own line: look the pair up in its parent map.
      if (depth > 0) {
        const parent = doc.getIn(path.slice(0, depth - 1) as unknown[], true) as
          | { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] }
          | undefined;
        const pair = parent?.items?.find((item) => item.key?.value === path[depth - 1]);
        if (pair?.key?.range) return lineCounter.linePos(pair.key.range[0]).line;
      }
    }
    return undefined;
  };
  return { data: doc.toJS() ?? {}, lineOf };
}

export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function configError(error: z.ZodError, file: string, lineOf: (path: PropertyKey[]) => number | undefined): TransbatchError {
  const messages: string[] = [];
  let firstLine: number | undefined;
  let firstKey: string | undefined;
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const keyPath = formatKeyPath(path);
        messages.push(`unknown key ${keyPath}`);
        firstLine ??= lineOf(path);
        firstKey ??= keyPath;
      }
      continue;
    }
    const keyPath = formatKeyPath(issue.path);
    const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
    messages.push(missing ? `missing key ${keyPath}` : `${keyPath || '(root)'}: ${issue.message}`);
    firstLine ??= lineOf(issue.path);
    firstKey ??= keyPath;
  }
  const context = { file, ...(firstLine === undefined ? {} : { line: firstLine }), ...(firstKey ? { key: firstKey } : {}) };
  return new TransbatchError('config', `invalid pipeline config: ${messages.join('; ')}`, context);
}

const EXTENSION_FORMATS: Record<string, DataFormat> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.parquet': 'parquet',
};

export function formatFromPath(path: string, declared: DataFormat | undefined, what: string, file: string): DataFormat {
  if (declared) return declared;
  const format = EXTENSION_FORMATS[extname(path).toLowerCase()];
  if (!format) {
    throw new TransbatchError(
      'config',
      `${what}: cannot tell the format of ${path} from its extension; set ${what.replace(/\.path$/, '.format')}`,
      {
        file,
        key: what,
      },
    );
  }
  return format;
}

export function resolvePipelineConfig(
  parsed: ParsedPipelineConfig,
  configPath: string,
  overrides: { runDir?: string; env?: NodeJS.ProcessEnv } = {},
): PipelineConfig {
  const configDir = dirname(configPath);
  const at = (path: string) => (isAbsolute(path) ? path : resolve(configDir, path));
  const expandName = (path: string) => path.replaceAll('{name}', parsed.name);
  const fail = (key: string, message: string) =>
    new TransbatchError('config', `invalid pipeline config: ${key}: ${message}`, { file: configPath, key });

  const inputPath = at(parsed.input.path);
  const outputsWritten = Array.isArray(parsed.output) ? parsed.output : [parsed.output];
  const outputs: ResolvedOutput[] = outputsWritten.map((output, index) => {
    const key = Array.isArray(parsed.output) ? `output[${index}]` : 'output';
    const path = at(expandName(output.path));
    const hasLang = path.includes('{lang}');
    if (output.mode === 'replace' && parsed.target_languages.length > 1 && !hasLang) {
      throw fail(`${key}.path`, 'with several target languages and mode "replace" the path needs {lang} (one file per language)');
    }
    if (output.mode === 'columns' && hasLang) {
      throw fail(`${key}.path`, 'mode "columns" writes every language into one file; remove {lang} from the path');
    }
    return { path, format: formatFromPath(output.path, output.format, `${key}.path`, configPath), mode: output.mode };
  });

  // Outputs that differ only by extension share a rejects file; that only works when they reject the same rows.
  const rejectsModes = new Map<string, string>();
  for (const output of outputs) {
    const rejects = rejectsPathFor(output.path);
    const seen = rejectsModes.get(rejects);
    if (seen !== undefined && seen !== output.mode) {
      throw fail('output', `two outputs with different modes would share the rejects file ${rejects}; give them different names`);
    }
    rejectsModes.set(rejects, output.mode);
  }

  for (const lang of Object.keys(parsed.language_names)) {
    if (!parsed.target_languages.includes(lang) && lang !== parsed.source_language) {
      throw fail(`language_names.${lang}`, `"${lang}" is neither a target language nor the source language`);
    }
  }
  for (const reserved of ['model', 'messages', 'stream', 'n']) {
    if (reserved in parsed.request) throw fail(`request.${reserved}`, `"${reserved}" is set by transbatch and cannot be overridden here`);
  }
  if (new Set(parsed.target_languages).size !== parsed.target_languages.length)
    throw fail('target_languages', 'a language is listed twice');
  if (new Set(parsed.fields).size !== parsed.fields.length) throw fail('fields', 'a field is listed twice');

  const runDir = overrides.runDir ? resolve(overrides.runDir) : at(expandName(parsed.run_dir ?? `runs/${parsed.name}`));
  return {
    ...parsed,
    configPath,
    configDir,
    input: {
      path: inputPath,
      format: formatFromPath(parsed.input.path, parsed.input.format, 'input.path', configPath),
      ...(parsed.input.id ? { id: parsed.input.id } : {}),
    },
    outputs,
    runDir,
    cacheDir: parsed.cache.enabled ? (parsed.cache.dir ? at(parsed.cache.dir) : defaultCacheDir(overrides.env)) : null,
  };
}

/** `$TRANSBATCH_CACHE_DIR`, else `$XDG_CACHE_HOME/transbatch`, else `~/.cache/transbatch`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TRANSBATCH_CACHE_DIR']) return resolve(env['TRANSBATCH_CACHE_DIR']);
  if (env['XDG_CACHE_HOME']) return resolve(env['XDG_CACHE_HOME'], 'transbatch');
  return resolve(env['HOME'] ?? '.', '.cache', 'transbatch');
}

/** The file an output writes for one language (`{lang}` expanded). */
export function outputPathFor(output: ResolvedOutput, lang: string): string {
  return output.path.replaceAll('{lang}', lang);
}

/** `<output path minus extension>.rejects.jsonl`. */
export function rejectsPathFor(outputPath: string): string {
  const extension = extname(outputPath);
  return `${extension ? outputPath.slice(0, -extension.length) : outputPath}.rejects.jsonl`;
}
