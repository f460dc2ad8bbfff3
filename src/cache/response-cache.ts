/**
 * The response cache shared by every run on this machine: successful answers
 * keyed by the request key (a versioned hash of endpoint + body, see
 * build/request.ts). It never stores failures, API keys or anything but the
 * answer, so a changed config or input pays only for requests that changed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TransbatchError } from '../errors.js';

export interface CachedAnswer {
  content: string;
  finishReason: string | null;
}

export class ResponseCache {
  private readonly getStatement: Database.Statement<[string, Buffer], { content: string; finish_reason: string | null }>;
  private readonly putStatement: Database.Statement<[string, Buffer, string, string | null, number], unknown>;

  /**
   * `scope` names who answered (e.g. `openai https://api.openai.com/v1` or
   * `local pseudo`): a rehearsal's pseudo answers must never stand in for a
   * real model's.
   */
  private constructor(
    private readonly db: Database.Database,
    private readonly scope: string,
  ) {
    this.getStatement = db.prepare('SELECT content, finish_reason FROM answers WHERE scope = ? AND key = ?');
    this.putStatement = db.prepare('INSERT OR IGNORE INTO answers (scope, key, content, finish_reason, created_at) VALUES (?, ?, ?, ?, ?)');
  }

  static open(dir: string, scope: string): ResponseCache {
    try {
      mkdirSync(dir, { recursive: true });
      const db = new Database(join(dir, 'responses.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 10000');
      db.exec(
        'CREATE TABLE IF NOT EXISTS answers (scope TEXT NOT NULL, key BLOB NOT NULL, content TEXT NOT NULL, finish_reason TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID',
      );
      return new ResponseCache(db, scope);
    } catch (error) {
      throw new TransbatchError(
        'state',
        `cannot open the response cache in ${dir}: ${(error as Error).message}; set cache.dir or TRANSBATCH_CACHE_DIR`,
        {
          file: dir,
        },
      );
    }
  }

  get(key: Buffer): CachedAnswer | undefined {
    const row = this.getStatement.get(this.scope, key);
    return row ? { content: row.content, finishReason: row.finish_reason } : undefined;
  }

  /** Stores many answers in one transaction. */
  putMany(answers: Iterable<{ key: Buffer; content: string; finishReason: string | null }>): number {
    const now = Date.now();
    let stored = 0;
    this.db.transaction(() => {
      for (const answer of answers)
        stored += this.putStatement.run(this.scope, answer.key, answer.content, answer.finishReason, now).changes;
    })();
    return stored;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
