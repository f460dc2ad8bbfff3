import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BatchInsert } from '../../src/state/batch-insert.js';
import { RunState } from '../../src/state/run-state.js';

function rowsAfterInserting(count: number, flush: boolean): unknown[] {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)');
  const insert = new BatchInsert(db, 't (id, name, data)', 3);
  for (let i = 0; i < count; i++) insert.add(i, i % 7 === 0 ? null : `n${i}`, Buffer.from([i % 256]));
  if (flush) insert.flush();
  const rows = db.prepare('SELECT id, name, hex(data) AS data FROM t ORDER BY id').all();
  db.close();
  return rows;
}

const expected = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: i,
    name: i % 7 === 0 ? null : `n${i}`,
    data: (i % 256).toString(16).toUpperCase().padStart(2, '0'),
  }));

describe('BatchInsert', () => {
  it.each([0, 1, 49, 50, 51, 100, 123])('writes all %i rows, in order, by flush', (count) => {
    expect(rowsAfterInserting(count, true)).toEqual(expected(count));
  });

  it('writes whole statements as they fill and keeps the rest until flush', () => {
    expect(rowsAfterInserting(123, false)).toEqual(expected(100));
  });

  it('can be reused after flush', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a INTEGER, b INTEGER)');
    const insert = new BatchInsert(db, 't (a, b)', 2);
    insert.add(1, 2);
    insert.flush();
    insert.add(3, 4);
    insert.flush();
    expect(db.prepare('SELECT a, b FROM t ORDER BY a').all()).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ]);
    db.close();
  });
});

describe('RunState.outcomeWriter', () => {
  const done = (content: string) =>
    ({ kind: 'done', content, finishReason: 'stop', promptTokens: 2, completionTokens: 3, source: 'batch' }) as const;

  it("keeps each writer's rows its own: unflushed rows of an abandoned writer are never written by another", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-outcomes-'));
    const state = RunState.open(dir);
    try {
      const abandoned = state.outcomeWriter();
      abandoned.add(1, done('from a rolled-back collect'));
      const next = state.outcomeWriter();
      next.add(2, done('kept'));
      next.flush();
      state.recordOutcome(2, done('again'));
      expect(state.db.prepare('SELECT request_id, content, prompt_tokens FROM outcomes ORDER BY request_id').all()).toEqual([
        { request_id: 2, content: 'again', prompt_tokens: 4 },
      ]);
    } finally {
      state.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
