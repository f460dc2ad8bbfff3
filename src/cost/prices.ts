/**
 * Synchronous list prices in USD per million tokens (OpenAI pricing page,
 * standard tier, as of 2026). The Batch API costs half. Unknown models have
 * no price: estimates say so instead of guessing.
 */
export interface ModelPrice {
  input: number;
  output: number;
}

const PRICES: Record<string, ModelPrice> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  o3: { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
};

export const BATCH_DISCOUNT = 0.5;

/** Exact name, else the name without a date suffix (`gpt-4o-2024-08-06` → `gpt-4o`). */
export function priceOf(model: string, override?: Partial<ModelPrice>): ModelPrice | undefined {
  if (override?.input !== undefined && override.output !== undefined) return { input: override.input, output: override.output };
  return PRICES[model] ?? PRICES[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
}

export function costUsd(price: ModelPrice, inputTokens: number, outputTokens: number, batch: boolean): number {
  const usd = (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
  return batch ? usd * BATCH_DISCOUNT : usd;
}
