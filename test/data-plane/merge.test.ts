/**
 * Merge round trip: prepare through the CLI, answer every request directly in
 * the state DB with a deterministic function of its text and language, run
 * `merge` through the CLI and compare the outputs with datasets computed here,
 * independently of the merge code. Some answers are rejections or missing:
 * those rows go to the rejects file, not the output.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunState } from '../../src/state/run-state.js';
import { runCliCapture } from '../helpers/cli.js';
import { makeTempDir, readJsonl, writeJsonl, writePipeline } from './fixtures.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

const LANGS = ['de', 'fr'] as const;
const answer = (lang: string, text: string) => `[${lang}] ${text}`;

/** A (row, field path, lang) whose request is answered with a rejection or left unanswered. */
interface Failure {
  row: number;
  path: string;
  lang: string;
  reason: string;
  detail: string;
}

/**
 * Answers every request: `[lang] <sent text>` (sentinels kept, so merge must
 * restore the protected spans), except the listed failures. Returns how many
 * requests sent text still containing sentinels (to prove protection happened).
 */
function fabricateResults(runDir: string, failures: readonly (Failure & { cell: number })[]): { requests: number; withSentinels: number } {
  const state = RunState.open(runDir);
  const db = state.db;
  try {
    const rows = (
      db.prepare('SELECT DISTINCT r.id, u.lang FROM requests r JOIN units u ON u.request_id = r.id').all() as { id: number; lang: string }[]
    ).map((row) => ({ ...row, text: state.requestTextOf(row.id)! }));
    const done = db.prepare(
      "INSERT INTO outcomes (request_id, status, source, content, finish_reason) VALUES (?, 'done', 'batch', ?, 'stop')",
    );
    db.transaction(() => {
      for (const row of rows) done.run(row.id, answer(row.lang, row.text));
      for (const failure of failures) {
        const unit = db
          .prepare('SELECT request_id FROM units WHERE row = ? AND cell = ? AND lang = ?')
          .get(failure.row, failure.cell, failure.lang) as { request_id: number } | undefined;
        if (!unit) throw new Error(`no unit for ${JSON.stringify(failure)}`);
        if (failure.reason === 'pending') {
          db.prepare('DELETE FROM outcomes WHERE request_id = ?').run(unit.request_id);
        } else {
          db.prepare(
            "UPDATE outcomes SET status = 'rejected', content = NULL, source = NULL, reason = ?, detail = ? WHERE request_id = ?",
          ).run(failure.reason, failure.detail, unit.request_id);
        }
      }
    })();
    return { requests: rows.length, withSentinels: rows.filter((row) => /⟦\d+⟧/.test(row.text)).length };
  } finally {
    state.close();
  }
}

function translatable(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

// ── CSV ──────────────────────────────────────────────────────────────────

const CSV_HEADER = ['id', 'title', 'body', 'note'];
const CSV_ROWS: string[][] = [
  ['1', 'Hello world', 'Visit https://example.com/docs?a=1 for {name} details.', 'keep'],
  ['2', 'Second title', 'Run `npm test` now, then email ops@example.com.', 'keep "quoted"'],
  ['3', '', 'A row whose title is empty: it is not sent.', ''],
  ['4', 'Multi\nline, with comma', 'Body with <b>bold</b> and %s and {{var}}.', 'x'],
  ['5', 'Fifth title', 'Café, naïve, 東京 — unicode survives.', 'y'],
];

function csvText(): string {
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
  return [CSV_HEADER, ...CSV_ROWS].map((row) => row.map(quote).join(',')).join('\n') + '\n';
}

const CSV_FIELDS = ['title', 'body'];
/** cell index of a CSV field = its position in `fields` (one occurrence each). */
const csvCell = (path: string) => CSV_FIELDS.indexOf(path);

function readCsv(path: string): string[][] {
  return parseCsv(readFileSync(path, 'utf8'), { relax_column_count: false }) as string[][];
}

function csvRecord(row: readonly string[]): Record<string, string> {
  return Object.fromEntries(CSV_HEADER.map((key, i) => [key, row[i]!]));
}

// ── JSONL (nested) ───────────────────────────────────────────────────────

type ChatRecord = { id: string; messages: { role: string; content: unknown }[]; meta?: { title: unknown; tags?: string[] } };

const JSONL_ROWS: ChatRecord[] = [
  {
    id: 'a',
    messages: [
      { role: 'user', content: 'How do I greet {name} politely?' },
      { role: 'assistant', content: 'Call `greet(name)` and see https://example.org/greet.' },
    ],
    meta: { title: 'Greetings', tags: ['x'] },
  },
  {
    id: 'b',
    messages: [
      { role: 'user', content: '' },
      { role: 'assistant', content: 42 },
      { role: 'user', content: 'Only this one is sent.' },
    ],
    meta: { title: 'Second chat' },
  },
  { id: 'c', messages: [], meta: { title: 'No messages here' } },
  { id: 'd', messages: [{ role: 'user', content: 'Last one, without meta.' }] },
  { id: 'e', messages: [{ role: 'system', content: 'Keep <code>x</code> and 50% of {{var}}.' }], meta: { title: 'Fifth' } },
];
const JSONL_FIELDS = ['messages[*].content', 'meta.title'];

/** Cell index of a concrete path in a record: occurrences in config order, then document order. */
function jsonlCell(record: ChatRecord, path: string): number {
  const paths = [...record.messages.map((_, i) => `messages[${i}].content`), ...(record.meta ? ['meta.title'] : [])];
  const cell = paths.indexOf(path);
  if (cell < 0) throw new Error(`no ${path}`);
  return cell;
}

function expectedJsonlReplace(record: ChatRecord, lang: string): unknown {
  return {
    ...record,
    messages: record.messages.map((message) => ({
      ...message,
      content: translatable(message.content) ? answer(lang, message.content) : message.content,
    })),
    ...(record.meta
      ? { meta: { ...record.meta, title: translatable(record.meta.title) ? answer(lang, record.meta.title) : record.meta.title } }
      : {}),
  };
}

function expectedJsonlColumns(record: ChatRecord): unknown {
  const siblings = (key: string, value: unknown) =>
    Object.fromEntries([[key, value], ...LANGS.map((lang) => [`${key}_${lang}`, translatable(value) ? answer(lang, value) : value])]);
  return {
    id: record.id,
    messages: record.messages.map(({ role, content }) => ({ role, ...siblings('content', content) })),
    ...(record.meta ? { meta: { ...siblings('title', record.meta.title), ...(record.meta.tags ? { tags: record.meta.tags } : {}) } } : {}),
  };
}

/** Compares values and key order (JSON.stringify keeps insertion order). */
function expectSameJson(actual: readonly unknown[], expected: readonly unknown[]): void {
  expect(actual).toEqual(expected);
  expect(actual.map((value) => JSON.stringify(value))).toEqual(expected.map((value) => JSON.stringify(value)));
}

async function prepareAndMerge(config: string, failures: readonly (Failure & { cell: number })[]) {
  const prepared = await runCliCapture(['prepare', config]);
  expect(prepared.code, prepared.stderr).toBe(0);
  const fabricated = fabricateResults(join(dir, 'run'), failures);
  const merged = await runCliCapture(['merge', config]);
  expect(merged.code, merged.stderr).toBe(0);
  return { fabricated, merged };
}

interface RejectLine {
  row_index: number;
  row: unknown;
  failures: { field: string; lang: string; reason: string; detail: string }[];
}

function rejectsOf(path: string): RejectLine[] {
  expect(existsSync(path)).toBe(true);
  return readJsonl(path) as RejectLine[];
}

const sortFailures = <T extends { field: string; lang: string }>(failures: T[]) =>
  [...failures].sort((a, b) => (a.lang + a.field).localeCompare(b.lang + b.field));

describe('merge round trip: CSV', () => {
  const failures: Failure[] = [
    { row: 1, path: 'body', lang: 'fr', reason: 'http_400', detail: 'bad' },
    { row: 3, path: 'title', lang: 'de', reason: 'http_400', detail: 'bad' },
    { row: 3, path: 'body', lang: 'fr', reason: 'truncated', detail: 'finish_reason length' },
  ];
  const withCells = failures.map((failure) => ({ ...failure, cell: csvCell(failure.path) }));

  it('replace: one file per language, same header, translated cells, rejected rows only in that language’s rejects', async () => {
    writeFileSync(join(dir, 'input.csv'), csvText());
    const config = writePipeline(dir, {
      input: { path: 'input.csv' },
      fields: CSV_FIELDS,
      target_languages: [...LANGS],
      output: { path: 'out/tickets.{lang}.csv', mode: 'replace' },
    });
    const { fabricated } = await prepareAndMerge(config, withCells);
    // 5 rows × 2 languages × (2 fields, minus the empty title of row 3) = 18 requests, some protected.
    expect(fabricated.requests).toBe(18);
    expect(fabricated.withSentinels).toBe(6); // the bodies of rows 1, 2 and 4, in both languages

    for (const lang of LANGS) {
      const rejectedRows = new Set(failures.filter((f) => f.lang === lang).map((f) => f.row));
      const expected = CSV_ROWS.flatMap((row, index) => {
        if (rejectedRows.has(index)) return [];
        const record = csvRecord(row);
        return [
          CSV_HEADER.map((key) => (CSV_FIELDS.includes(key) && translatable(record[key]) ? answer(lang, record[key]) : record[key]!)),
        ];
      });
      const output = readCsv(join(dir, 'out', `tickets.${lang}.csv`));
      expect(output[0]).toEqual(CSV_HEADER);
      expect(output.slice(1)).toEqual(expected);

      const rejects = rejectsOf(join(dir, 'out', `tickets.${lang}.rejects.jsonl`));
      const expectedRejects = [...rejectedRows].sort().map((row) => ({
        row_index: row,
        row: csvRecord(CSV_ROWS[row]!),
        failures: failures
          .filter((f) => f.row === row && f.lang === lang)
          .map(({ path, lang, reason, detail }) => ({ field: path, lang, reason, detail })),
      }));
      expect(rejects).toEqual(expectedRejects);
    }
  });

  it('columns: <field>_<lang> right after each source field, a row with any failure goes to the rejects', async () => {
    writeFileSync(join(dir, 'input.csv'), csvText());
    const config = writePipeline(dir, {
      input: { path: 'input.csv' },
      fields: CSV_FIELDS,
      target_languages: [...LANGS],
      output: { path: 'out/tickets.csv', mode: 'columns' },
    });
    await prepareAndMerge(config, withCells);

    const header = ['id', 'title', 'title_de', 'title_fr', 'body', 'body_de', 'body_fr', 'note'];
    const rejectedRows = new Set(failures.map((f) => f.row));
    const expected = CSV_ROWS.flatMap((row, index) => {
      if (rejectedRows.has(index)) return [];
      const record = csvRecord(row);
      return [
        header.map((column) => {
          const match = /^(title|body)_(de|fr)$/.exec(column);
          if (!match) return record[column]!;
          const source = record[match[1]!]!;
          return translatable(source) ? answer(match[2]!, source) : source;
        }),
      ];
    });
    const output = readCsv(join(dir, 'out', 'tickets.csv'));
    expect(output[0]).toEqual(header);
    expect(output.slice(1)).toEqual(expected);
    expect(output.slice(1).map((row) => row[0])).toEqual(['1', '3', '5']);

    const rejects = rejectsOf(join(dir, 'out', 'tickets.rejects.jsonl'));
    expect(rejects.map((line) => line.row_index)).toEqual([1, 3]);
    for (const line of rejects) {
      expect(Object.keys(line).sort()).toEqual(['failures', 'row', 'row_index']);
      expect(line.row).toEqual(csvRecord(CSV_ROWS[line.row_index]!));
      expect(sortFailures(line.failures)).toEqual(
        sortFailures(
          failures.filter((f) => f.row === line.row_index).map(({ path, lang, reason, detail }) => ({ field: path, lang, reason, detail })),
        ),
      );
    }
  });

  it('every row translated: outputs complete, rejects file exists and is empty', async () => {
    writeFileSync(join(dir, 'input.csv'), csvText());
    const config = writePipeline(dir, {
      input: { path: 'input.csv' },
      fields: CSV_FIELDS,
      target_languages: [...LANGS],
      output: [
        { path: 'out/tickets.{lang}.csv', mode: 'replace' },
        { path: 'out/all.jsonl', mode: 'columns' },
      ],
    });
    await prepareAndMerge(config, []);
    for (const lang of LANGS) {
      expect(readCsv(join(dir, 'out', `tickets.${lang}.csv`))).toHaveLength(CSV_ROWS.length + 1);
      expect(readFileSync(join(dir, 'out', `tickets.${lang}.rejects.jsonl`), 'utf8')).toBe('');
    }
    const all = readJsonl(join(dir, 'out', 'all.jsonl')) as Record<string, string>[];
    expect(all.map((row) => row['body_fr'])).toEqual(CSV_ROWS.map((row) => answer('fr', row[2]!)));
    expect(readFileSync(join(dir, 'out', 'all.rejects.jsonl'), 'utf8')).toBe('');
  });
});

describe('merge round trip: nested JSONL', () => {
  const failures: Failure[] = [
    { row: 0, path: 'messages[1].content', lang: 'de', reason: 'http_400', detail: 'bad' },
    { row: 4, path: 'meta.title', lang: 'fr', reason: 'pending', detail: '' },
  ];
  const withCells = failures.map((failure) => ({ ...failure, cell: jsonlCell(JSONL_ROWS[failure.row]!, failure.path) }));

  function setup(output: unknown): string {
    writeJsonl(join(dir, 'input.jsonl'), JSONL_ROWS);
    return writePipeline(dir, { fields: JSONL_FIELDS, target_languages: [...LANGS], output });
  }

  it('replace: each message content and meta.title translated in place, rows in input order', async () => {
    const config = setup({ path: 'out/chat.{lang}.jsonl', mode: 'replace' });
    const { fabricated } = await prepareAndMerge(config, withCells);
    // sent cells per language: a:3, b:2, c:1, d:1, e:2 = 9
    expect(fabricated.requests).toBe(18);
    expect(fabricated.withSentinels).toBeGreaterThan(0);

    for (const lang of LANGS) {
      const rejected = new Set(failures.filter((f) => f.lang === lang).map((f) => f.row));
      const expected = JSONL_ROWS.flatMap((record, index) => (rejected.has(index) ? [] : [expectedJsonlReplace(record, lang)]));
      expectSameJson(readJsonl(join(dir, 'out', `chat.${lang}.jsonl`)), expected);
      const rejects = rejectsOf(join(dir, 'out', `chat.${lang}.rejects.jsonl`));
      expect(rejects.map((line) => line.row_index)).toEqual([...rejected]);
      for (const line of rejects) expect(line.row).toEqual(JSONL_ROWS[line.row_index]);
    }
    const deRejects = rejectsOf(join(dir, 'out', 'chat.de.rejects.jsonl'));
    expect(deRejects).toEqual([
      { row_index: 0, row: JSONL_ROWS[0], failures: [{ field: 'messages[1].content', lang: 'de', reason: 'http_400', detail: 'bad' }] },
    ]);
    const frRejects = rejectsOf(join(dir, 'out', 'chat.fr.rejects.jsonl'));
    expect(frRejects[0]!.failures).toEqual([expect.objectContaining({ field: 'meta.title', lang: 'fr', reason: 'pending' })]);
  });

  it('columns: <key>_<lang> siblings right after each translated key, untranslatable values copied', async () => {
    const config = setup({ path: 'out/chat.jsonl', mode: 'columns' });
    await prepareAndMerge(config, withCells);
    const rejected = new Set(failures.map((f) => f.row));
    const expected = JSONL_ROWS.flatMap((record, index) => (rejected.has(index) ? [] : [expectedJsonlColumns(record)]));
    expectSameJson(readJsonl(join(dir, 'out', 'chat.jsonl')), expected);
    const rejects = rejectsOf(join(dir, 'out', 'chat.rejects.jsonl'));
    expect(rejects.map((line) => line.row_index)).toEqual([0, 4]);
    expect(rejects[0]).toEqual({
      row_index: 0,
      row: JSONL_ROWS[0],
      failures: [{ field: 'messages[1].content', lang: 'de', reason: 'http_400', detail: 'bad' }],
    });
  });

  it('the data-samples chat file round-trips with every message translated', async () => {
    const source = readFileSync(join(import.meta.dirname, '..', '..', 'data-samples', 'chat-mini.jsonl'), 'utf8');
    writeFileSync(join(dir, 'input.jsonl'), source);
    const config = writePipeline(dir, { fields: ['messages[*].content'], target_languages: ['ko'], output: { path: 'out/chat.ko.jsonl' } });
    await prepareAndMerge(config, []);
    const records = source
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ChatRecord);
    const expected = records.map((record) => ({
      ...record,
      messages: record.messages.map((message) => ({
        ...message,
        content: translatable(message.content) ? answer('ko', message.content) : message.content,
      })),
    }));
    expectSameJson(readJsonl(join(dir, 'out', 'chat.ko.jsonl')), expected);
    expect(readFileSync(join(dir, 'out', 'chat.ko.rejects.jsonl'), 'utf8')).toBe('');
  });
});

describe('response cache location', () => {
  it('merge fills the cache in the CLI env’s TRANSBATCH_CACHE_DIR, and a new run dir reuses it instead of sending', async () => {
    writeJsonl(join(dir, 'input.jsonl'), JSONL_ROWS);
    const config = writePipeline(dir, { fields: JSONL_FIELDS, target_languages: [...LANGS], output: { path: 'out/chat.{lang}.jsonl' } });
    const cacheDir = join(dir, 'cache');
    const env = { TRANSBATCH_CACHE_DIR: cacheDir };
    expect((await runCliCapture(['prepare', config], env)).code).toBe(0);
    fabricateResults(join(dir, 'run'), []);
    expect((await runCliCapture(['merge', config], env)).code).toBe(0);
    expect(existsSync(join(cacheDir, 'responses.sqlite'))).toBe(true);

    const again = await runCliCapture(['prepare', config, '--json', '--run-dir', join(dir, 'run2')], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ requests: 18, cached: 18, shards: [] });
    // Merging the cached run rewrites the very same outputs.
    const before = LANGS.map((lang) => readFileSync(join(dir, 'out', `chat.${lang}.jsonl`), 'utf8'));
    expect(before[0]).toContain('[de] How do I greet {name} politely?');
    const merged = await runCliCapture(['merge', config, '--run-dir', join(dir, 'run2')], env);
    expect(merged.code, merged.stderr).toBe(0);
    expect(LANGS.map((lang) => readFileSync(join(dir, 'out', `chat.${lang}.jsonl`), 'utf8'))).toEqual(before);
  });
});
