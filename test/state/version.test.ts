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
    expect(STATE_VERSION).toBe(4);
    const state = RunState.open(runDirWithVersion('3'));
    expect(state.getMeta('state_version')).toBe('4');
    state.close();
  });

  it('refuses a run dir of another version, naming it', () => {
    const runDir = runDirWithVersion('2');
    expect(() => RunState.open(runDir)).toThrow(/written by another transbatch version \(state v2\); use --fresh/);
  });
});
