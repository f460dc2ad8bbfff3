import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RunState, requestText, STATE_FILE } from '../../src/state/run-state.js';
import { STATE_SCHEMA, STATE_VERSION } from '../../src/state/schema.js';

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
  it.each(['3', '4'])(
    'carries a v%s run dir on as the current version: its requests keep their texts, new ones may be in shards',
    (version) => {
      expect(STATE_VERSION).toBe(5);
      const runDir = mkdtempSync(join(tmpdir(), 'tb-version-'));
      dirs.push(runDir);
      // The requests table as v3 and v4 created it: no text_* columns.
      const old = new Database(join(runDir, STATE_FILE));
      old.exec(STATE_SCHEMA.replace(/ {2}text_shard INTEGER,\n {2}text_at INTEGER,\n {2}text_bytes INTEGER,\n/, ''));
      old.prepare("INSERT INTO meta (key, value) VALUES ('state_version', ?)").run(version);
      old
        .prepare(
          "INSERT INTO shards (number, path, attempt, lines, bytes, input_tokens, sha256, status) VALUES (1, 'x', 1, 2, 9, 2, '', 'built')",
        )
        .run();
      const insert = old.prepare(
        'INSERT INTO requests (custom_id, hash, row, text, input_tokens, expected_output_tokens, shard) VALUES (?, ?, ?, ?, 1, 1, 1)',
      );
      insert.run('r0.c0.ko.k0', Buffer.alloc(16), 0, 'plain text');
      insert.run('r1.c0.ko.k0', Buffer.alloc(16, 1), 1, Buffer.from(JSON.stringify('a "literal"')));
      expect(old.pragma('table_info(requests)', { simple: false })).not.toContainEqual(expect.objectContaining({ name: 'text_shard' }));
      old.close();

      const state = RunState.open(runDir);
      try {
        expect(state.getMeta('state_version')).toBe('5');
        expect(state.requestByCustomId('r0.c0.ko.k0')?.text).toBe('plain text');
        expect(state.requestTextOf(2)).toBe('a "literal"');
        expect(state.shardRequestsAfter(1, 0, 10).map((row) => requestText(row.text))).toEqual(['plain text', 'a "literal"']);
      } finally {
        state.close();
      }
      // Opened again: already v5, nothing to add.
      RunState.open(runDir).close();
    },
  );

  it('refuses a run dir of another version, naming it', () => {
    const runDir = runDirWithVersion('2');
    expect(() => RunState.open(runDir)).toThrow(/written by another transbatch version \(state v2\); use --fresh/);
  });
});
