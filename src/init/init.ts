/**
 * `transbatch init`: profiles a dataset's first rows and writes a commented
 * pipeline config that runs as-is on the local emulator.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFromPath } from '../config/load.js';
import type { DataFormat } from '../config/schema.js';
import { TransbatchError } from '../errors.js';
import { chooseFields, chooseIdField, type FieldVerdict } from './choose.js';
import { profileDataset } from './inspect.js';
import { renderPipelineYaml } from './render.js';

export interface InitOptions {
  /** Where to write the config; default `pipelines/<name>.yaml` under cwd. */
  output?: string;
  name?: string;
  targets?: string[];
  format?: DataFormat;
  force?: boolean;
  /** Rows to sample (default 1000). */
  sampleRows?: number;
  cwd?: string;
}

export interface InitResult {
  configPath: string;
  name: string;
  fields: string[];
  idField: string | undefined;
  rowsSampled: number;
  verdicts: FieldVerdict[];
}

/** schema/ sits two levels above this module, both in src/ and in dist/. */
const SCHEMA_PATH = fileURLToPath(new URL('../../schema/pipeline.schema.json', import.meta.url));

export async function initPipeline(dataset: string, options: InitOptions = {}): Promise<InitResult> {
  const cwd = options.cwd ?? process.cwd();
  const datasetPath = resolve(cwd, dataset);
  if (!existsSync(datasetPath)) throw new TransbatchError('input', `cannot read ${dataset}: no such file`, { file: dataset });
  const format = formatFromPath(datasetPath, options.format, 'the dataset', dataset);
  const targets = options.targets && options.targets.length > 0 ? options.targets : ['ko'];
  const name = options.name ?? defaultName(datasetPath, targets);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new TransbatchError('usage', `--name: expected letters, digits, ".", "_" or "-" (at most 64), got ${JSON.stringify(name)}`);
  }
  const configPath = resolve(cwd, options.output ?? join('pipelines', `${name}.yaml`));
  if (existsSync(configPath) && !options.force) {
    throw new TransbatchError('usage', `${configPath} already exists; pass --force to overwrite it or -o to write elsewhere`, {
      file: configPath,
    });
  }

  const profile = await profileDataset(datasetPath, format, options.sampleRows ?? 1000);
  if (profile.rows === 0) throw new TransbatchError('input', `${dataset} has no rows to inspect`, { file: dataset });
  const { verdicts, chosen } = chooseFields(profile.fields);
  if (chosen.length === 0)
    throw new TransbatchError('input', `${dataset}: no text fields found in the first ${profile.rows} row(s)`, { file: dataset });
  const idField = chooseIdField(profile.fields, profile.rows);

  const configDir = dirname(configPath);
  // Repository convention: configs in pipelines/, outputs in ../out, runs in ../runs.
  const base = basename(configDir) === 'pipelines' ? dirname(configDir) : configDir;
  const fromConfig = (path: string) => toPosix(relative(configDir, path)) || '.';
  const outputFormat = format;
  const outputPath = fromConfig(join(base, 'out', `${name}.{lang}.${outputFormat}`));
  const yaml = renderPipelineYaml({
    name,
    schemaPath: fromConfig(SCHEMA_PATH),
    inputPath: fromConfig(datasetPath),
    inputFormat: format,
    idField,
    fields: chosen,
    targets,
    outputPath,
    runDir: fromConfig(join(base, 'runs', '{name}')),
    datasetShown: toPosix(relative(cwd, datasetPath)) || datasetPath,
    configShown: toPosix(relative(cwd, configPath)) || configPath,
    rowsSampled: profile.rows,
    sampleTruncated: profile.truncated,
    verdicts,
  });
  mkdirSync(configDir, { recursive: true });
  writeFileSync(configPath, yaml, { flag: options.force ? 'w' : 'wx' });
  return { configPath, name, fields: chosen, idField, rowsSampled: profile.rows, verdicts };
}

/** `<dataset stem>-<targets>`, cleaned to a valid pipeline name. */
export function defaultName(datasetPath: string, targets: readonly string[]): string {
  const stem = basename(datasetPath, extname(datasetPath));
  const cleaned = `${stem}-${targets.join('-')}`
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return cleaned === '' ? 'pipeline' : cleaned;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
