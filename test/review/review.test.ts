/**
 * review end to end: a run on the emulator where a fault plan rejects some
 * rows (HTTP 400, always) and makes another retry once, then the review page,
 * checked as text and in headless Chromium (filters, paging, screenshot).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCapture } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const ROWS = 120;
const REJECTED_ROWS = [3, 57];
const RETRIED_ROW = 8;
const HOSTILE = '</script><script>window.__pwned = true</script><img src=x onerror="window.__pwned=true">';

let dir: string;
let cache: string;
let config: string;
let reviewPath: string;
let reviewStdout: string;

function rowText(index: number): Record<string, unknown> {
  return {
    id: `q${String(index).padStart(3, '0')}`,
    question:
      index === RETRIED_ROW ? `Why does ${HOSTILE} show as text?` : `Question number ${index}: how do I use {name} and %s in a template?`,
    answer: `Answer ${index}: see https://example.com/docs/${index} and run \`npm test\` first.`,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-review-'));
  cache = join(dir, 'cache');
  writeFileSync(join(dir, 'data.jsonl'), Array.from({ length: ROWS }, (_, index) => JSON.stringify(rowText(index))).join('\n') + '\n');
  const rejected = REJECTED_ROWS.map((row) => `r${row}`).join('|');
  writeFileSync(
    join(dir, 'faults.yaml'),
    [
      'requests:',
      `  - custom_id: "^(${rejected})\\\\.c0\\\\."`,
      '    kind: error',
      '    status: 400',
      `  - custom_id: "^r${RETRIED_ROW}\\\\.c1\\\\."`,
      '    kind: error',
      '    status: 500',
      '    times: 1',
      '',
    ].join('\n'),
  );
  config = join(dir, 'pipeline.yaml');
  writeFileSync(
    config,
    [
      'name: review-test',
      'input: {path: data.jsonl, id: id}',
      'fields: [question, answer]',
      'target_languages: [ko, ja]',
      'model: gpt-4o-mini',
      'provider: {kind: local, faults: faults.yaml}',
      'batch: {poll_interval: 50ms}',
      'output: {path: "out/qa.{lang}.jsonl"}',
      '',
    ].join('\n'),
  );
  const run = await runCliCapture(['run', config, '-q'], { TRANSBATCH_CACHE_DIR: cache });
  expect(run.stderr).not.toContain('internal error');
  expect(run.code).toBe(2);
  const review = await runCliCapture(['review', config, '--sample', '60'], { TRANSBATCH_CACHE_DIR: cache });
  expect(review.stderr).not.toContain('error');
  expect(review.code).toBe(0);
  reviewStdout = review.stdout.trim();
  reviewPath = join(dir, 'runs', 'review-test', 'review.html');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface EmbeddedRow {
  row: number;
  id: string | null;
  flags: string[];
  reasons: string[];
  attempts: number;
  cells: { path: string; lang: string; status: string; reason?: string }[];
}

function embedded(html: string): { summary: Record<string, unknown>; rows: EmbeddedRow[] } {
  const match = /<script type="application\/json" id="review-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) throw new Error('no embedded data');
  return JSON.parse(match[1]) as { summary: Record<string, unknown>; rows: EmbeddedRow[] };
}

describe('transbatch review', () => {
  it('writes review.html into the run dir and prints its path', () => {
    expect(reviewStdout).toBe(reviewPath);
    expect(existsSync(reviewPath)).toBe(true);
  });

  it('is self-contained: no external URL is loaded', () => {
    const html = readFileSync(reviewPath, 'utf8');
    expect(html).not.toMatch(/<(?:script|link|img)[^>]+(?:src|href)=/i);
    expect(html).toContain("default-src 'none'");
  });

  it('puts rejected rows first, then retried ones, then a bounded sample', () => {
    const { rows, summary } = embedded(readFileSync(reviewPath, 'utf8'));
    expect(rows.slice(0, 2).map((row) => row.id)).toEqual(['q003', 'q057']);
    for (const row of rows.slice(0, 2)) {
      expect(row.flags[0]).toBe('rejected');
      expect(row.reasons).toEqual(['http_400']);
      expect(row.cells.filter((cell) => cell.status === 'rejected').map((cell) => `${cell.path}/${cell.lang}`)).toEqual([
        'question/ko',
        'question/ja',
      ]);
    }
    expect(rows[2]?.id).toBe('q008');
    expect(rows[2]?.flags).toEqual(['retried']);
    expect(rows[2]?.attempts).toBe(2);
    const sampled = rows.slice(3);
    expect(sampled).toHaveLength(60);
    expect(sampled.every((row) => row.flags.length === 0)).toBe(true);
    expect(summary['rowsIn']).toBe(ROWS);
    expect(summary['rowsRejected']).toBe(2);
    expect(summary['rejectsByReason']).toEqual({ http_400: 4 });
    expect(summary['source']).toBe('report.json');
    expect((summary['stages'] as { stage: string }[]).map((stage) => stage.stage)).toEqual(['prepare', 'submit + wait', 'merge', 'total']);
  });

  it('samples the same rows every time and honours --max-flagged', async () => {
    const before = embedded(readFileSync(reviewPath, 'utf8')).rows.map((row) => row.row);
    const again = await runCliCapture(['review', config, '--sample', '60', '--json'], { TRANSBATCH_CACHE_DIR: cache });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ path: reviewPath, rows_in: ROWS, flagged: 3, shown_flagged: 3, shown_sampled: 60 });
    expect(embedded(readFileSync(reviewPath, 'utf8')).rows.map((row) => row.row)).toEqual(before);

    const capped = await runCliCapture(['review', config, '--sample', '5', '--max-flagged', '1'], { TRANSBATCH_CACHE_DIR: cache });
    expect(capped.code).toBe(0);
    const rows = embedded(readFileSync(reviewPath, 'utf8')).rows;
    expect(rows.map((row) => row.id).slice(0, 1)).toEqual(['q003']);
    expect(rows).toHaveLength(6);
    expect(readFileSync(reviewPath, 'utf8')).toContain('raise --max-flagged');
    // Back to the page the browser test uses.
    await runCliCapture(['review', config, '--sample', '60'], { TRANSBATCH_CACHE_DIR: cache });
  });

  it('keeps hostile dataset text inert in the HTML', () => {
    const html = readFileSync(reviewPath, 'utf8');
    // The cell's tags are protected spans, so they travel as separate segments.
    expect(html).toContain('["\\u003c/script\\u003e","html",0]');
    expect(html).toContain('window.__pwned');
    expect(html).not.toContain('<script>window.__pwned');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain('<img');
  });

  it('refuses a run that was never prepared', async () => {
    const other = join(dir, 'unprepared.yaml');
    writeFileSync(other, readFileSync(config, 'utf8').replace('name: review-test', 'name: never-run'));
    const result = await runCliCapture(['review', other], { TRANSBATCH_CACHE_DIR: cache });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not been prepared/);
  });
});

const haveChromium = existsSync(CHROMIUM);
const skipBrowser = !haveChromium && !process.env['CI'];
if (skipBrowser) console.warn(`skipping the review page browser test: ${CHROMIUM} is missing (apt-get install chromium); it runs in CI`);

describe.skipIf(skipBrowser)('review page in headless Chromium', () => {
  it('filters to the rejected rows, searches, pages, and shows hostile text as text', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(pathToFileURL(reviewPath).href);
      await page.waitForSelector('body[data-ready="true"]');
      const shownRows = () => page.$$eval('#rows [data-row]', (nodes) => nodes.map((node) => node.getAttribute('data-id')));

      // 3 flagged + 60 sampled rows: the first page holds 50.
      expect(await shownRows()).toHaveLength(50);
      expect(await page.textContent('#page-info')).toContain('of 63');

      await page.selectOption('#filter-flag', 'rejected');
      expect(await shownRows()).toEqual(['q003', 'q057']);
      const failure = await page.textContent('[data-id="q003"] .failure');
      expect(failure).toContain('http_400');

      await page.selectOption('#filter-flag', 'http_400');
      expect(await shownRows()).toEqual(['q003', 'q057']);
      await page.selectOption('#filter-lang', 'ja');
      expect(await page.$$eval('[data-id="q003"] td.lang', (nodes) => nodes.map((node) => node.textContent))).toEqual(['ja', 'ja']);

      await page.selectOption('#filter-flag', 'retried');
      await page.selectOption('#filter-lang', '');
      expect(await shownRows()).toEqual(['q008']);

      await page.selectOption('#filter-flag', '');
      await page.fill('#search', 'window.__pwned');
      expect(await shownRows()).toEqual(['q008']);
      expect(await page.textContent('[data-id="q008"] td.source')).toContain(HOSTILE);
      expect(await page.evaluate(() => (globalThis as { __pwned?: boolean }).__pwned)).toBeUndefined();

      await page.fill('#search', '');
      await page.click('#next');
      expect(await shownRows()).toHaveLength(13);
      expect(await page.$$eval('#rows .span.kind-urls', (nodes) => nodes.length)).toBeGreaterThan(0);

      await page.fill('#search', '');
      await page.selectOption('#filter-flag', 'rejected');
      const screenshot = join(dir, 'shots', 'review.png');
      mkdirSync(join(dir, 'shots'), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(statSync(screenshot).size).toBeGreaterThan(1000);
      expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');

      expect(errors).toEqual([]);
      expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
