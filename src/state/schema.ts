/** The run state's SQLite schema. Bump STATE_VERSION on incompatible changes. */
export const STATE_VERSION = 5;

export const STATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- One row per distinct request (after dedupe), written once by prepare and
-- never rewritten for its answer: collect inserts into outcomes instead, so a
-- batch of answers costs one append per request, not a rewrite of its row.
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  custom_id TEXT NOT NULL UNIQUE,
  hash BLOB NOT NULL,
  row INTEGER NOT NULL,
  -- the (protected) text sent, for the checks on its answer: TEXT, or a BLOB holding
  -- its JSON string literal (decode: requestText); '' when text_shard is set
  text NOT NULL,
  -- where prepare left the text when it is its line's user content: the JSON string
  -- literal at bytes text_at .. text_at + text_bytes of that shard's file (src/state/shard-texts.ts)
  text_shard INTEGER,
  text_at INTEGER,
  text_bytes INTEGER,
  input_tokens INTEGER NOT NULL,
  expected_output_tokens INTEGER NOT NULL,
  shard INTEGER,
  -- attempts made before its current shard (that shard's own counts when shards.counted)
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_by_shard ON requests (shard);
-- A request's result; no row (or 'queued', after a retry) while it waits for one.
CREATE TABLE IF NOT EXISTS outcomes (
  request_id INTEGER PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('queued', 'retry', 'done', 'rejected', 'replaced')),
  source TEXT CHECK (source IN ('batch', 'sync', 'cache')),
  content TEXT,
  finish_reason TEXT,
  reason TEXT,
  detail TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outcomes_by_status ON outcomes (status);
-- Dedupe keys past what prepare's in-memory index holds (src/build/request-index.ts).
CREATE TABLE IF NOT EXISTS request_keys (
  hash BLOB PRIMARY KEY,
  request_id INTEGER NOT NULL
) WITHOUT ROWID;
-- One row per translation unit (row, cell, language, chunk) pointing at its request.
CREATE TABLE IF NOT EXISTS units (
  row INTEGER NOT NULL,
  cell INTEGER NOT NULL,
  lang TEXT NOT NULL,
  chunk INTEGER NOT NULL,
  request_id INTEGER NOT NULL,
  -- for a cell sent in a packed request: its key in the packed JSON
  pack_key TEXT,
  PRIMARY KEY (row, cell, lang, chunk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS units_by_request ON units (request_id);
-- Request lines that are in no shard file yet (per-cell fallbacks of packed requests).
CREATE TABLE IF NOT EXISTS pending_lines (
  request_id INTEGER PRIMARY KEY,
  line TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shards (
  number INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('built', 'uploaded', 'creating', 'submitted', 'collected')),
  file_id TEXT,
  batch_id TEXT,
  batch_status TEXT,
  creates INTEGER NOT NULL DEFAULT 0,
  -- 1 while its batch counts as an attempt for its requests (created, and not refused for token limits)
  counted INTEGER NOT NULL DEFAULT 0,
  -- when the last batches.create was marked (epoch seconds), to bound reconcile listing
  marked_at INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL
);
`;
