/**
 * The run's on-disk state (SQLite in the run dir). Every step records what it
 * is about to do and what it did, so a killed process resumes exactly.
 * Writes are grouped in transactions by the callers' batching; WAL mode with
 * synchronous=NORMAL keeps commits durable across process kills without a
 * per-row fsync.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TransbatchError } from '../errors.js';
import { BatchInsert } from './batch-insert.js';
import { STATE_SCHEMA, STATE_VERSION } from './schema.js';
import { ShardTexts, type StoredText, storedTextColumns, TEXT_LOCATION_COLUMNS } from './shard-texts.js';
import type { NewRequest, RequestOutcome, RequestStatus, ShardRow, ShardStatus, TokenTotals, UnitResult } from './types.js';

/**
 * Versions carried on as the current one. v3 has v5's tables but for the
 * requests' text_* columns (v4 may store texts as BLOBs, v5 in the shards):
 * the columns are added, and the texts a v3 or v4 prepare stored stay where
 * they are. Older transbatch refuses the upgraded run dir.
 */
const UPGRADABLE_VERSIONS = ['3', '4'];

/**
 * A request's text from what the state gives back: TEXT as it is, or the JSON
 * literal bytes of its line's content (read from its shard by ShardTexts, or
 * stored as a BLOB by a v4 prepare), decoded.
 */
export function requestText(stored: string | Buffer): string {
  return typeof stored === 'string' ? stored : (JSON.parse(stored.toString('utf8')) as string);
}

export const STATE_FILE = 'state.sqlite';

type Statement = Database.Statement<unknown[], unknown>;

/** A sent request as collect needs it. */
export interface SentRequestRow {
  id: number;
  custom_id: string;
  text: string;
  status: RequestStatus;
  shard: number | null;
  attempts: number;
}

/** The same, `text` as stored (see requestText; a text in a shard is read as its literal's bytes). */
export type StoredRequestRow = Omit<SentRequestRow, 'text'> & StoredText;

/** StoredRequestRow's columns: attempts count the current shard's batch once it counts. */
const SELECT_SENT_REQUESTS = `SELECT r.id, r.custom_id, ${storedTextColumns('r')}, COALESCE(o.status, 'queued') AS status, r.shard,
    r.attempts + COALESCE(s.counted, 0) AS attempts
  FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id LEFT JOIN shards s ON s.number = r.shard`;

export interface OutcomeWriter {
  add(requestId: number, outcome: RequestOutcome): void;
  flush(): void;
}

export class RunState {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();

  /** Reads the texts prepare left in the shard files. */
  private readonly shardTexts: ShardTexts;

  private constructor(db: Database.Database) {
    this.db = db;
    this.shardTexts = new ShardTexts(
      (number) => this.statement('SELECT path FROM shards WHERE number = ?').pluck().get(number) as string | undefined,
    );
  }

  static open(runDir: string): RunState {
    mkdirSync(runDir, { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(join(runDir, STATE_FILE));
      // Larger pages: prepare writes hundreds of MB of rows; 16 KB pages take a quarter of the syscalls of 4 KB ones.
      // (Only applies when the file is created.)
      db.pragma('page_size = 16384');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // 8 MB of page cache: prepare appends, collect and merge walk indexes in order; no access is random enough to need more.
      db.pragma('cache_size = -8192');
      db.exec(STATE_SCHEMA);
    } catch (error) {
      throw new TransbatchError('state', `cannot open the run state in ${runDir}: ${(error as Error).message}`, {
        file: join(runDir, STATE_FILE),
      });
    }
    const state = new RunState(db);
    const version = state.getMeta('state_version');
    if (version !== undefined && UPGRADABLE_VERSIONS.includes(version)) state.upgrade();
    if (version === undefined || UPGRADABLE_VERSIONS.includes(version)) state.setMeta('state_version', String(STATE_VERSION));
    else if (Number(version) !== STATE_VERSION) {
      db.close();
      throw new TransbatchError(
        'state',
        `the run dir ${runDir} was written by another transbatch version (state v${version}); use --fresh or another --run-dir`,
        {
          file: join(runDir, STATE_FILE),
        },
      );
    }
    return state;
  }

  /** Adds what v5 has and v3/v4 run dirs lack (their rows keep their texts in the state). */
  private upgrade(): void {
    const columns = new Set((this.db.pragma('table_info(requests)') as { name: string }[]).map((column) => column.name));
    this.transaction(() => {
      for (const column of TEXT_LOCATION_COLUMNS)
        if (!columns.has(column)) this.db.exec(`ALTER TABLE requests ADD COLUMN ${column} INTEGER`);
    });
  }

  close(): void {
    this.shardTexts.close();
    if (this.db.open) this.db.close();
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ── meta and events ────────────────────────────────────────────────────

  getMeta(key: string): string | undefined {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Appends to the event log (never updated or deleted). */
  event(type: string, data: Record<string, unknown> = {}): void {
    this.statement('INSERT INTO events (at, type, data) VALUES (?, ?, ?)').run(new Date().toISOString(), type, JSON.stringify(data));
  }

  events(): { id: number; at: string; type: string; data: string }[] {
    return this.statement('SELECT id, at, type, data FROM events ORDER BY id').all() as {
      id: number;
      at: string;
      type: string;
      data: string;
    }[];
  }

  // ── prepare ────────────────────────────────────────────────────────────

  /** Throws away everything prepare wrote (used when a prepare was interrupted). */
  clearPrepared(): void {
    // The shard files are about to be written again.
    this.shardTexts.close();
    this.db.exec(
      'DROP INDEX IF EXISTS requests_by_hash; DELETE FROM units; DELETE FROM requests; DELETE FROM outcomes; DELETE FROM shards; DELETE FROM pending_lines; DELETE FROM request_keys;',
    );
  }

  /** The dedupe key of request `id`. */
  requestKey(id: number): Buffer | undefined {
    return this.statement('SELECT hash FROM requests WHERE id = ?').pluck().get(id) as Buffer | undefined;
  }

  /** Dedupe keys the in-memory index had no room for. */
  readonly keyOverflow = {
    find: (hash: Buffer): number | undefined =>
      this.statement('SELECT request_id FROM request_keys WHERE hash = ?').pluck().get(hash) as number | undefined,
    insert: (hash: Buffer, id: number): void => {
      this.statement('INSERT INTO request_keys (hash, request_id) VALUES (?, ?)').run(hash, id);
    },
  };

  /**
   * Indexes requests by key for lookups after prepare (the per-cell fallback of
   * packed requests dedupes against them); built once, in bulk, when needed.
   */
  indexRequestKeys(): void {
    this.db.exec('CREATE INDEX IF NOT EXISTS requests_by_hash ON requests (hash)');
  }

  /** Needs `indexRequestKeys()` first. */
  findRequestByHash(hash: Buffer): number | undefined {
    const row = this.statement('SELECT id FROM requests WHERE hash = ? LIMIT 1').get(hash) as { id: number } | undefined;
    return row?.id;
  }

  unitsOfRequest(requestId: number): { row: number; cell: number; lang: string; chunk: number; pack_key: string | null }[] {
    return this.statement('SELECT row, cell, lang, chunk, pack_key FROM units WHERE request_id = ? ORDER BY row, cell').all(requestId) as {
      row: number;
      cell: number;
      lang: string;
      chunk: number;
      pack_key: string | null;
    }[];
  }

  repointUnit(row: number, cell: number, lang: string, chunk: number, requestId: number): void {
    this.statement('UPDATE units SET request_id = ?, pack_key = NULL WHERE row = ? AND cell = ? AND lang = ? AND chunk = ?').run(
      requestId,
      row,
      cell,
      lang,
      chunk,
    );
  }

  private insertUnsentRequest(request: NewRequest): number {
    const info = this.statement(
      'INSERT INTO requests (custom_id, hash, row, text, input_tokens, expected_output_tokens) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(request.customId, request.hash, request.row, request.text, request.tokens.input, request.tokens.output);
    return Number(info.lastInsertRowid);
  }

  /** A request whose line is in no shard yet: waits as `retry` for the next retry shard. */
  insertPendingRequest(request: NewRequest, line: string): number {
    const id = this.insertUnsentRequest(request);
    this.statement("INSERT INTO outcomes (request_id, status) VALUES (?, 'retry')").run(id);
    this.statement('INSERT INTO pending_lines (request_id, line) VALUES (?, ?)').run(id, line);
    return id;
  }

  pendingLines(): { request_id: number; custom_id: string; line: string; input_tokens: number }[] {
    return this.statement(
      "SELECT p.request_id, r.custom_id, p.line, r.input_tokens FROM pending_lines p JOIN requests r ON r.id = p.request_id JOIN outcomes o ON o.request_id = p.request_id WHERE o.status = 'retry' ORDER BY p.request_id",
    ).all() as { request_id: number; custom_id: string; line: string; input_tokens: number }[];
  }

  deletePendingLine(requestId: number): void {
    this.statement('DELETE FROM pending_lines WHERE request_id = ?').run(requestId);
  }

  markReplaced(requestId: number, detail: string, usage: { promptTokens: number; completionTokens: number }): void {
    this.statement(
      `INSERT INTO outcomes (request_id, status, reason, detail, prompt_tokens, completion_tokens) VALUES (?, 'replaced', 'pack_fallback', ?, ?, ?)
       ON CONFLICT (request_id) DO UPDATE SET status = 'replaced', reason = 'pack_fallback', detail = excluded.detail,
         prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens`,
    ).run(requestId, detail, usage.promptTokens, usage.completionTokens);
  }

  insertShard(shard: {
    number: number;
    path: string;
    attempt: number;
    lines: number;
    bytes: number;
    inputTokens: number;
    sha256: string;
  }): void {
    this.statement(
      "INSERT INTO shards (number, path, attempt, lines, bytes, input_tokens, sha256, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'built')",
    ).run(shard.number, shard.path, shard.attempt, shard.lines, shard.bytes, shard.inputTokens, shard.sha256);
  }

  // ── shards and batches ─────────────────────────────────────────────────

  shards(): ShardRow[] {
    return this.statement('SELECT * FROM shards ORDER BY number').all() as ShardRow[];
  }

  shard(number: number): ShardRow {
    const row = this.statement('SELECT * FROM shards WHERE number = ?').get(number) as ShardRow | undefined;
    if (!row) throw new Error(`no shard ${number} in the run state`);
    return row;
  }

  nextShardNumber(): number {
    const row = this.statement('SELECT COALESCE(MAX(number), 0) + 1 AS next FROM shards').get() as { next: number };
    return row.next;
  }

  updateShard(number: number, changes: Partial<Omit<ShardRow, 'number'>>): void {
    const keys = Object.keys(changes) as (keyof typeof changes)[];
    if (keys.length === 0) return;
    const sql = `UPDATE shards SET ${keys.map((key) => `${key} = @${key}`).join(', ')} WHERE number = @number`;
    this.statement(sql).run({ ...changes, number });
  }

  setShardStatus(number: number, status: ShardStatus, changes: Partial<Omit<ShardRow, 'number' | 'status'>> = {}): void {
    this.updateShard(number, { ...changes, status });
  }

  // ── requests and results ───────────────────────────────────────────────

  /** Tokens add up over attempts; everything else is the latest outcome's. */
  recordOutcome(requestId: number, outcome: RequestOutcome): void {
    const outcomes = this.outcomeWriter();
    outcomes.add(requestId, outcome);
    outcomes.flush();
  }

  /**
   * Records outcomes many rows per statement (collect's ~10 µs a request was
   * mostly per-call cost). Nothing is written before `add` fills a statement
   * or `flush`: flush before reading outcomes back, and before the commit.
   * Each writer has its own rows (a rolled-back collect's unflushed ones go with it).
   */
  outcomeWriter(): OutcomeWriter {
    const rows = new BatchInsert(
      { prepare: (sql) => this.statement(sql) },
      'outcomes (request_id, status, source, content, finish_reason, reason, detail, prompt_tokens, completion_tokens)',
      9,
      `ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, source = excluded.source, content = excluded.content,
         finish_reason = excluded.finish_reason, reason = excluded.reason, detail = excluded.detail,
         prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens`,
    );
    return {
      add(requestId, outcome) {
        if (outcome.kind === 'done') {
          const { source, content, finishReason, promptTokens, completionTokens } = outcome;
          rows.add(requestId, 'done', source, content, finishReason, null, null, promptTokens, completionTokens);
        } else {
          const { kind, reason, detail, promptTokens, completionTokens } = outcome;
          rows.add(requestId, kind, null, null, null, reason, detail, promptTokens, completionTokens);
        }
      },
      flush: () => rows.flush(),
    };
  }

  /** Moves requests waiting for a retry into a new shard; returns how many. */
  requestsToRetryFromShard(shard: number): Map<string, number> {
    const rows = this.statement(
      "SELECT r.id, r.custom_id FROM requests r JOIN outcomes o ON o.request_id = r.id WHERE r.shard = ? AND o.status = 'retry'",
    ).all(shard) as {
      id: number;
      custom_id: string;
    }[];
    return new Map(rows.map((row) => [row.custom_id, row.id]));
  }

  /** Moves a request into another shard; the attempts of the one it leaves are kept. */
  requeue(requestId: number, shard: number): void {
    this.statement(
      'UPDATE requests SET attempts = attempts + COALESCE((SELECT counted FROM shards WHERE number = requests.shard), 0), shard = ? WHERE id = ?',
    ).run(shard, requestId);
    this.statement("UPDATE outcomes SET status = 'queued' WHERE request_id = ?").run(requestId);
  }

  /**
   * Counts an attempt for every request of the shard: called when its batch is
   * created. A flag on the shard, not an update of 50,000 request rows.
   */
  countAttempts(shard: number): void {
    this.statement('UPDATE shards SET counted = 1 WHERE number = ?').run(shard);
  }

  /** A batch that failed for token limits did not attempt its requests. */
  uncountAttempts(shard: number): void {
    this.statement('UPDATE shards SET counted = 0 WHERE number = ?').run(shard);
  }

  /** Counts one attempt of one request (sync mode sends them one by one). */
  countAttempt(requestId: number): void {
    this.statement('UPDATE requests SET attempts = attempts + 1 WHERE id = ?').run(requestId);
  }

  requestByCustomId(customId: string): SentRequestRow | undefined {
    const row = this.statement(`${SELECT_SENT_REQUESTS} WHERE r.custom_id = ?`).get(customId) as StoredRequestRow | undefined;
    return row && { ...row, text: requestText(this.withTexts([row])[0]!.text) };
  }

  /** The text of request `id`. */
  requestTextOf(id: number): string | undefined {
    const row = this.statement(`SELECT ${storedTextColumns('r')} FROM requests r WHERE r.id = ?`).get(id) as StoredText | undefined;
    return row && requestText(this.withTexts([row])[0]!.text);
  }

  /**
   * Texts as stored (see requestText) of rows selected with the text_*
   * columns: those in shard files are read, neighbours at once.
   */
  withTexts<Row extends StoredText>(rows: Row[]): Row[] {
    return this.shardTexts.attach(rows);
  }

  /** The next `limit` requests of `shard` after id `afterId`, in id order (text as stored: decode with requestText). */
  shardRequestsAfter(shard: number, afterId: number, limit: number): StoredRequestRow[] {
    return this.withTexts(
      this.statement(`${SELECT_SENT_REQUESTS} WHERE r.shard = ? AND r.id > ? ORDER BY r.id LIMIT ?`).all(
        shard,
        afterId,
        limit,
      ) as StoredRequestRow[],
    );
  }

  /** Requests of a collected shard that appeared in neither file: retried, or rejected once out of attempts. */
  sweepUnanswered(shard: number, reason: string, detail: string, maxAttempts: number): number {
    return this.statement(
      `INSERT INTO outcomes (request_id, status, reason, detail)
       SELECT r.id, CASE WHEN r.attempts + s.counted >= @max THEN 'rejected' ELSE 'retry' END, @reason,
         CASE WHEN r.attempts + s.counted >= @max THEN @detail || ' (after ' || (r.attempts + s.counted) || ' attempts)' ELSE @detail END
       FROM requests r JOIN shards s ON s.number = r.shard LEFT JOIN outcomes o ON o.request_id = r.id
       WHERE r.shard = @shard AND COALESCE(o.status, 'queued') = 'queued'
       ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, reason = excluded.reason, detail = excluded.detail`,
    ).run({ shard, reason, detail, max: maxAttempts }).changes;
  }

  /** Shards holding requests that wait for a retry (requests only in pending_lines have none). */
  shardsWithRetries(): number[] {
    return this.statement(
      "SELECT DISTINCT r.shard FROM outcomes o JOIN requests r ON r.id = o.request_id WHERE o.status = 'retry' AND r.shard IS NOT NULL ORDER BY r.shard",
    )
      .pluck()
      .all() as number[];
  }

  hasRetries(): boolean {
    return this.statement("SELECT 1 FROM outcomes WHERE status = 'retry' LIMIT 1").get() !== undefined;
  }

  requestCounts(): Record<RequestStatus, number> {
    const counts: Record<RequestStatus, number> = { queued: 0, retry: 0, done: 0, rejected: 0, replaced: 0 };
    const total = this.statement('SELECT COUNT(*) FROM requests').pluck().get() as number;
    counts.queued = total;
    for (const row of this.statement('SELECT status, COUNT(*) AS n FROM outcomes GROUP BY status').all() as {
      status: RequestStatus;
      n: number;
    }[]) {
      // Requeued requests keep an outcome row marked queued: already counted in the total.
      if (row.status === 'queued') continue;
      counts[row.status] = row.n;
      counts.queued -= row.n;
    }
    return counts;
  }

  tokenTotals(): TokenTotals {
    return this.statement(
      "SELECT COALESCE(SUM(r.input_tokens), 0) AS inputTokens, COALESCE(SUM(r.expected_output_tokens), 0) AS expectedOutputTokens, COALESCE(SUM(CASE WHEN o.source = 'cache' THEN 0 ELSE r.input_tokens END), 0) AS billableInputTokens, COALESCE(SUM(CASE WHEN o.source = 'cache' THEN 0 ELSE r.expected_output_tokens END), 0) AS billableOutputTokens, COALESCE(SUM(o.prompt_tokens), 0) AS promptTokens, COALESCE(SUM(o.completion_tokens), 0) AS completionTokens, COUNT(*) AS requests, COALESCE(SUM(o.source = 'cache'), 0) AS cached FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id",
    ).get() as TokenTotals;
  }

  /** Rows by state: rejected if any cell is, pending if any cell waits, else done (rows with nothing to translate are done). */
  rowStatusCounts(totalRows: number): { done: number; pending: number; rejected: number } {
    const row = this.statement(
      `SELECT COALESCE(SUM(rejected > 0), 0) AS rejected, COALESCE(SUM(rejected = 0 AND waiting > 0), 0) AS pending FROM (
         SELECT SUM(o.status = 'rejected') AS rejected, SUM(COALESCE(o.status, 'queued') IN ('queued', 'retry')) AS waiting
         FROM units u LEFT JOIN outcomes o ON o.request_id = u.request_id GROUP BY u.row)`,
    ).get() as { rejected: number; pending: number };
    return { done: Math.max(totalRows - row.rejected - row.pending, 0), pending: row.pending, rejected: row.rejected };
  }

  unitCount(): number {
    return (this.statement('SELECT COUNT(*) AS n FROM units').get() as { n: number }).n;
  }

  /** Every unit with its request's result, in (row, cell, lang, chunk) order: a sequential scan for merge. */
  unitResults(): IterableIterator<UnitResult> {
    return this.db
      .prepare(
        `SELECT u.row, u.cell, u.lang, u.chunk, COALESCE(o.status, 'queued') AS status, o.content, o.reason, o.detail, u.pack_key
         FROM units u LEFT JOIN outcomes o ON o.request_id = u.request_id
         ORDER BY u.row, u.cell, u.lang, u.chunk`,
      )
      .iterate() as IterableIterator<UnitResult>;
  }

  /** Successful answers, for filling the response cache. */
  doneAnswers(): IterableIterator<{ hash: Buffer; content: string; finish_reason: string | null }> {
    return this.db
      .prepare(
        "SELECT r.hash, o.content, o.finish_reason FROM outcomes o JOIN requests r ON r.id = o.request_id WHERE o.status = 'done' AND o.source != 'cache'",
      )
      .iterate() as IterableIterator<{ hash: Buffer; content: string; finish_reason: string | null }>;
  }
}
