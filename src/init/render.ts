/**
 * `init`, part three (pure): the pipeline YAML, with a comment on every key,
 * the schema reference on the first line, and the field survey as comments.
 */
import type { DataFormat } from '../config/schema.js';
import { type FieldVerdict, meanLength, nonEmptyShare } from './choose.js';

export interface InitPlan {
  name: string;
  /** Paths as written in the YAML: relative to the config file, `/` separators. */
  schemaPath: string;
  inputPath: string;
  inputFormat: DataFormat;
  idField: string | undefined;
  fields: string[];
  targets: string[];
  outputPath: string;
  runDir: string;
  /** How init was invoked and what it sampled, for the header comment. */
  datasetShown: string;
  configShown: string;
  rowsSampled: number;
  sampleTruncated: boolean;
  verdicts: FieldVerdict[];
}

const COMMENT_COLUMN = 38;

/** `key: value` padded so the comment lines up. */
function line(indent: number, text: string, comment?: string): string {
  const body = `${' '.repeat(indent)}${text}`;
  if (!comment) return body;
  return `${body.padEnd(Math.max(COMMENT_COLUMN - 1, body.length + 1))} # ${comment}`;
}

/** A YAML scalar: plain when unambiguous, else a double-quoted (JSON) string. */
export function yamlScalar(value: string): string {
  const plain =
    /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(value) && !/^(?:true|false|yes|no|on|off|null|~|y|n)$/i.test(value) && !/^[\d.+-]/.test(value);
  return plain ? value : JSON.stringify(value);
}

function flowList(values: readonly string[]): string {
  return `[${values.map(yamlScalar).join(', ')}]`;
}

export function fieldSurvey(verdicts: readonly FieldVerdict[]): string[] {
  const width = Math.min(40, Math.max(5, ...verdicts.map((verdict) => verdict.stats.path.length)));
  return verdicts.map((verdict) => {
    const { stats } = verdict;
    const share = `${Math.round(nonEmptyShare(stats) * 100)}%`.padStart(4);
    const mean = stats.nonEmpty > 0 ? `${Math.round(meanLength(stats))}`.padStart(5) : '    -';
    return `${stats.path.padEnd(width)}  ${share} non-empty  mean ${mean} chars  ${verdict.translate ? 'translate' : `skip: ${verdict.why}`}`;
  });
}

export function renderPipelineYaml(plan: InitPlan): string {
  const out: string[] = [];
  out.push(`# yaml-language-server: $schema=${plan.schemaPath}`);
  out.push(
    `# Written by \`transbatch init ${plan.datasetShown}\` from the first ${plan.rowsSampled} row(s)${plan.sampleTruncated ? ' (a sample)' : ''}.`,
  );
  out.push('# It runs as-is on the embedded emulator (pseudo-translations, no key, no network):');
  out.push(`#   transbatch run ${plan.configShown}`);
  out.push(`#   transbatch review ${plan.configShown}    # source and translation side by side`);
  out.push('# Then switch provider.kind to openai for real translations (see below).');
  out.push(line(0, `name: ${yamlScalar(plan.name)}`, 'names the run dir and the batch metadata'));
  out.push(line(0, 'input:', 'the dataset, streamed (never loaded whole)'));
  out.push(line(2, `path: ${yamlScalar(plan.inputPath)}`, 'relative to this file'));
  out.push(line(2, `format: ${plan.inputFormat}`, 'csv | jsonl | json | parquet'));
  if (plan.idField !== undefined)
    out.push(line(2, `id: ${yamlScalar(plan.idField)}`, 'key column shown in rejects and review; default: the row number'));
  else out.push(line(2, '# id: id', 'optional key column; default: the row number'));
  out.push('# Text fields found in the sample (paths: a.b, list[*].key):');
  for (const survey of fieldSurvey(plan.verdicts)) out.push(`#   ${survey}`);
  out.push(line(0, `fields: ${flowList(plan.fields)}`, 'paths to translate; empty and non-string values are skipped'));
  out.push(line(0, '# source_language: en', "optional: the source's BCP-47 code, named in the prompt"));
  out.push(line(0, `target_languages: ${flowList(plan.targets)}`, 'BCP-47 codes; one translation per language'));
  out.push(line(0, 'model: gpt-4o-mini', 'the chat model that translates (its price sets the estimate)'));
  out.push(line(0, 'request:', 'extra chat-completion body parameters'));
  out.push(line(2, 'temperature: 0', 'deterministic answers'));
  out.push(line(0, 'prompt:', 'system/user templates default to a translator prompt'));
  out.push(line(2, 'glossary: {}', 'terms and their fixed translations, e.g. {PyTorch: PyTorch}'));
  out.push(line(0, 'split:', 'how texts become prompt rows'));
  out.push(line(2, 'max_chunk_tokens: 1500', 'longer texts are cut at paragraph / sentence boundaries'));
  out.push(line(2, 'protect: [code, urls, emails, placeholders, html, math]', 'kept out of translation'));
  out.push(line(0, 'provider:', 'who answers'));
  out.push(line(2, 'kind: local', 'the embedded emulator; use `openai` (and export OPENAI_API_KEY)'));
  out.push(line(2, '# api_key_env: OPENAI_API_KEY', 'with openai: the variable holding the key'));
  out.push(line(0, 'batch:', 'Batch API settings'));
  out.push(line(2, 'poll_interval: 200ms', 'the emulator is quick; use 30s or more with openai'));
  out.push(line(0, 'retry:', 'failed, truncated or invalid answers'));
  out.push(line(2, 'max_attempts: 3', 'tries per request before it becomes a reject'));
  out.push(line(0, 'checks: [nonempty, not_truncated, placeholders, language, unchanged, length_ratio]', 'answer checks'));
  out.push(line(0, 'output:', 'the translated dataset, rows in input order'));
  out.push(line(2, `path: ${yamlScalar(plan.outputPath)}`, '{lang} and {name} expand; relative to this file'));
  out.push(line(2, 'mode: replace', 'replace: same schema; columns: add <key>_<lang> beside the source'));
  out.push(line(0, `run_dir: ${yamlScalar(plan.runDir)}`, 'state, shards, report.json and review.html'));
  return `${out.join('\n')}\n`;
}
