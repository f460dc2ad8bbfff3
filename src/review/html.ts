/**
 * The review page: one self-contained HTML file (inline CSS and script, a CSP
 * that forbids any network access) that opens from file://. The summary is
 * rendered here; the rows travel as embedded JSON and the script renders one
 * page of them at a time.
 */
import { formatUsd } from '../cost/estimate.js';
import { CLIENT_SCRIPT } from './client.js';
import { embedJson, escapeHtml } from './escape.js';
import type { ReviewRow } from './rows.js';
import type { ReviewSummary } from './summary.js';

export function renderReviewPage(summary: ReviewSummary, rows: readonly ReviewRow[]): string {
  const title = `transbatch review: ${summary.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${renderSummary(summary)}
<form id="filters" onsubmit="return false">
  <label>field <select id="filter-field"><option value="">all fields</option></select></label>
  <label>language <select id="filter-lang"><option value="">all languages</option></select></label>
  <label>check / reason <select id="filter-flag"><option value="">all rows</option></select></label>
  <label>search <input id="search" type="search" placeholder="source or translation text"></label>
  <span class="count"><span id="match-count">0</span> matching</span>
</form>
<nav class="pager"><button id="prev" type="button">&larr; previous</button> <span id="page-info"></span> <button id="next" type="button">next &rarr;</button></nav>
<main id="rows"></main>
<script type="application/json" id="review-data">${embedJson({ summary, rows })}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

function renderSummary(summary: ReviewSummary): string {
  const row = (label: string, value: string) => `<tr><th>${escapeHtml(label)}</th><td>${value}</td></tr>`;
  const list = (entries: [string, string | number][]) =>
    entries.length === 0
      ? '<span class="muted">none</span>'
      : entries.map(([key, value]) => `${escapeHtml(key)} <b>${escapeHtml(String(value))}</b>`).join(', ');
  const { requests, tokens, shown } = summary;
  const rejects = Object.entries(summary.rejectsByReason).sort((a, b) => b[1] - a[1]);
  const stages = summary.stages.map((stage): [string, string] => [stage.stage, formatMs(stage.ms)]);
  const cost =
    summary.costUsdBatch === null
      ? '<span class="muted">unknown (no price for this model)</span>'
      : escapeHtml(formatUsd(summary.costUsdBatch));
  return `<section id="summary">
<table class="summary">
${row('run', `${escapeHtml(summary.runDir)}${summary.finished ? '' : ' <span class="badge flag-pending">not finished</span>'}`)}
${row('model', escapeHtml(summary.model))}
${row('fields', escapeHtml(summary.fields.join(', ')))}
${row('rows in', String(summary.rowsIn))}
${row('rows out', list(Object.entries(summary.rowsOut)))}
${row('rows rejected', String(summary.rowsRejected))}
${row('rejects by reason', list(rejects))}
${row(
  'requests',
  list([
    ['done', requests.done],
    ['rejected', requests.rejected],
    ['cached', requests.cached],
    ['waiting', requests.waiting],
    ['total', requests.total],
  ]),
)}
${row(
  'tokens',
  list([
    ['in', tokens.input],
    ['out', tokens.output],
  ]),
)}
${row('cost (batch prices)', cost)}
${row('time', list(stages))}
${row('shown here', `${shown.flagged} flagged row(s)${shown.flaggedTotal > shown.flagged ? ` of ${shown.flaggedTotal} (raise --max-flagged to see more)` : ''}, ${shown.sampled} sampled row(s)`)}
</table>
<p class="muted">Counts, tokens and cost from ${escapeHtml(summary.source)}; generated ${escapeHtml(summary.generatedAt)}.
Protected spans are <span class="span kind-code">highlighted</span>; a span missing or altered in the translation is <span class="span diff">marked</span>.</p>
</section>`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #6e6e73; --line: #d2d2d7; --span: #e8f0fe; --diff: #fde2e1; --flag: #fff4e5; }
@media (prefers-color-scheme: dark) { :root { --fg: #f5f5f7; --bg: #1c1c1e; --muted: #a1a1a6; --line: #3a3a3c; --span: #1f3b63; --diff: #6b1f1c; --flag: #3d2e12; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 1.5rem auto; max-width: 1400px; padding: 0 1rem; }
h1 { font-size: 1.3rem; }
table.summary th { text-align: left; padding-right: 1rem; font-weight: 600; white-space: nowrap; vertical-align: top; }
.muted { color: var(--muted); }
#filters { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: center; position: sticky; top: 0; background: var(--bg); padding: .6rem 0; border-bottom: 1px solid var(--line); z-index: 1; }
#filters input[type=search] { width: 18rem; }
.pager { margin: .6rem 0; }
.row { border: 1px solid var(--line); border-radius: 6px; margin: .8rem 0; }
.row.flagged { border-left: 4px solid #e8a33d; }
.row-head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; padding: .35rem .6rem; background: var(--flag); border-radius: 6px 6px 0 0; }
.row:not(.flagged) .row-head { background: transparent; }
.row-index { font-weight: 600; }
.row-id { font-family: ui-monospace, monospace; }
.badge { font-size: .75rem; border-radius: 999px; padding: 0 .5rem; border: 1px solid var(--line); }
.flag-rejected { background: #d93025; color: #fff; border-color: #d93025; }
.flag-retried { background: #e8a33d; color: #000; border-color: #e8a33d; }
.flag-pending { background: #8e8e93; color: #fff; }
.flag-differences { background: #a142f4; color: #fff; border-color: #a142f4; }
.badge.reason { font-family: ui-monospace, monospace; }
table.cells { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.cells th { text-align: left; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); padding: .25rem .6rem; }
table.cells th:nth-child(1) { width: 12rem; } table.cells th:nth-child(2) { width: 4rem; }
table.cells td { vertical-align: top; padding: .4rem .6rem; border-top: 1px solid var(--line); }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; }
td.path { font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
.span { background: var(--span); border-radius: 3px; font-family: ui-monospace, monospace; font-size: .92em; }
.span.diff { background: var(--diff); outline: 2px solid #d93025; }
.failure { color: #d93025; margin-top: .25rem; }
.failure .detail { color: var(--fg); }
.diff-note { color: #a142f4; font-size: .85rem; margin-top: .25rem; }
.empty { color: var(--muted); padding: .5rem .6rem; }
`;
