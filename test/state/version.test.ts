import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunState } from '../../src/state/run-state.js';
import { STATE_VERSION } from '../../src/state/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runDirWithVersion(version: string): string {
  const runDir = mkdtempSync(join(tmpdir(), 'tb-version-'));
  dirs.push(runDir);
  const state = RunState.open(runDir);
  state.setMeta('state_version', version);
  state.close();
  return runDir;
}

describe('run state versions', () => {
  it('carries a v3 run dir on as the current version (same tables; v4 may store texts as BLOBs)', () => {
    expect(STATE_VERSION).toBe(5);
    const state = RunState.open(runDirWithVersion('3'));
    expect(state.getMeta('state_version')).toBe('5');
    state.close();
  });

  it('carries a v4 run dir on as v5, adding shards.md5 (null for its shards: the upload computes it)', () => {
    const runDir = runDirWithVersion('4');
    const old = RunState.open(runDir);
    old.db.exec('ALTER TABLE shards DROP COLUMN md5');
    old.db.exec(
      "INSERT INTO shards (number, path, attempt, lines, bytes, input_tokens, sha256, status) VALUES (1, 's', 1, 1, 1, 1, '-', 'built')",
    );
    old.setMeta('state_version', '4');
    old.close();
    const state = RunState.open(runDir);
    expect(state.getMeta('state_version')).toBe('5');
    expect(state.shard(1).md5).toBeNull();
    state.close();
  });

  it('refuses a run dir of another version, naming it', () => {
    const runDir = runDirWithVersion('2');
    expect(() => RunState.open(runDir)).toThrow(/written by another transbatch version \(state v2\); use --fresh/);
  });
});
