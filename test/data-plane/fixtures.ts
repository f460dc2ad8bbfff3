/** Shared setup for the data-plane tests: temp dirs, pipeline configs, shard files, the state DB. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';

export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tb-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pipeline config on the local provider, run dir and outputs inside `dir`; `overrides` replace top-level keys. */
export function writePipeline(dir: string, overrides: Record<string, unknown>, file = 'pipeline.yaml'): string {
  const config = {
    name: 'dp-test',
    input: { path: 'input.jsonl' },
    fields: ['text'],
    target_languages: ['de'],
    model: 'gpt-4o-mini',
    provider: { kind: 'local' },
    output: { path: 'out/result.{lang}.jsonl' },
    run_dir: 'run',
    ...overrides,
  };
  const path = join(dir, file);
  writeFileSync(path, stringify(config));
  return path;
}

export function writeJsonl(path: string, records: readonly unknown[]): void {
  writeFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
}

export interface ShardFileInfo {
  name: string;
  path: string;
  bytes: Buffer;
  lines: string[];
}

/** The shard files under `<runDir>/shards`, in name order. */
export function readShards(runDir: string): ShardFileInfo[] {
  const shardsDir = join(runDir, 'shards');
  let names: string[];
  try {
    names = readdirSync(shardsDir).filter((name) => name.endsWith('.jsonl'));
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const path = join(shardsDir, name);
    const bytes = readFileSync(path);
    const text = bytes.toString('utf8');
    return { name, path, bytes, lines: text === '' ? [] : text.replace(/\n$/, '').split('\n') };
  });
}

/** Every `.jsonl` file anywhere under `dir`. */
export function jsonlFilesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    let entries: string[];
    try {
      entries = readdirSync(current);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.jsonl')) found.push(path);
    }
  };
  walk(dir);
  return found;
}

export function openStateDb(runDir: string): Database.Database {
  return new Database(join(runDir, 'state.sqlite'));
}

/** No JS stack frames in a CLI message. */
export function expectNoStack(stderr: string): boolean {
  return !/^\s{4}at /m.test(stderr) && !stderr.includes('internal error');
}

export function readJsonl(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  return text === ''
    ? []
    : text
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
}
