/** The cost estimate of a prepared run: tokens from the run state, prices from the table. */
import type { PipelineConfig } from '../config/types.js';
import type { PrepareSummary } from '../run/prepare.js';
import { parseCustomId } from '../split/custom-id.js';
import { approximateTokens, countTokens } from '../split/tokens.js';
import { type RunState, requestText } from '../state/run-state.js';
import { type StoredText, storedTextColumns } from '../state/shard-texts.js';
import { costUsd, priceOf } from './prices.js';
import { outputRatio } from './tokens.js';

export interface CostEstimate {
  model: string;
  rows: number;
  units: number;
  /** Distinct requests (after dedupe), cached ones included. */
  requests: number;
  deduplicated: number;
  cached: number;
  /** Requests that will be sent (not answered from the cache). */
  billableRequests: number;
  inputTokens: number;
  expectedOutputTokens: number;
  /** null when the model's price is unknown. */
  batchUsd: number | null;
  syncUsd: number | null;
}

/**
 * `exact`: recount every text to send with gpt-tokenizer instead of the fast
 * estimate prepare stored (the prompt heads are exact either way). The
 * `estimate` command does; `run` prints the fast figures.
 */
export function estimateCost(
  config: PipelineConfig,
  state: RunState,
  prepared: PrepareSummary,
  options: { exact?: boolean } = {},
): CostEstimate {
  const totals = options.exact ? exactTotals(config, state) : state.tokenTotals();
  const price = priceOf(config.model, config.cost.price);
  return {
    model: config.model,
    rows: prepared.rows,
    units: prepared.units,
    requests: prepared.requests,
    deduplicated: prepared.deduplicated,
    cached: prepared.cached,
    billableRequests: prepared.requests - prepared.cached,
    inputTokens: totals.billableInputTokens,
    expectedOutputTokens: totals.billableOutputTokens,
    batchUsd: price ? costUsd(price, totals.billableInputTokens, totals.billableOutputTokens, true) : null,
    syncUsd: price ? costUsd(price, totals.billableInputTokens, totals.billableOutputTokens, false) : null,
  };
}

const TEXT_PAGE_ROWS = 256;
type TextRow = StoredText & { custom_id: string; input_tokens: number };

function exactTotals(config: PipelineConfig, state: RunState): { billableInputTokens: number; billableOutputTokens: number } {
  let input = 0;
  let output = 0;
  const rows = state.db
    .prepare(
      `SELECT r.custom_id, ${storedTextColumns('r')}, r.input_tokens FROM requests r LEFT JOIN outcomes o ON o.request_id = r.id WHERE o.source IS NULL OR o.source != 'cache'`,
    )
    .iterate() as IterableIterator<TextRow>;
  const count = (page: TextRow[]): void => {
    // Texts in shard files are read a page at a time: neighbours in one read.
    for (const row of state.withTexts(page)) {
      const text = requestText(row.text);
      const exact = countTokens(text);
      input += row.input_tokens - approximateTokens(text) + exact;
      output += Math.ceil(exact * outputRatio(parseCustomId(row.custom_id)?.lang ?? '', config.cost.output_ratio));
    }
  };
  let page: TextRow[] = [];
  for (const row of rows) {
    page.push(row);
    if (page.length === TEXT_PAGE_ROWS) {
      count(page);
      page = [];
    }
  }
  count(page);
  return { billableInputTokens: input, billableOutputTokens: output };
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return 'unknown';
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function describeEstimate(estimate: CostEstimate): string[] {
  const n = (value: number) => value.toLocaleString('en-US');
  const lines = [
    `rows                    ${n(estimate.rows)}`,
    `requests                ${n(estimate.billableRequests)} to send (${n(estimate.units)} units, ${n(estimate.deduplicated)} deduplicated, ${n(estimate.cached)} cached)`,
    `input tokens            ${n(estimate.inputTokens)}`,
    `expected output tokens  ${n(estimate.expectedOutputTokens)}`,
  ];
  if (estimate.batchUsd === null) {
    lines.push(
      `cost                    unknown: no price is known for model "${estimate.model}"; set cost.price {input, output} (USD per million tokens)`,
    );
  } else {
    lines.push(`cost (${estimate.model})`.padEnd(24) + `batch ${formatUsd(estimate.batchUsd)}, sync ${formatUsd(estimate.syncUsd)}`);
  }
  return lines;
}
