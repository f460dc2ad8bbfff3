/** Token counts for chunking and estimates, in the o200k_base encoding of the GPT-4o / GPT-5 families. */
import { createRequire } from 'node:module';

type O200k = typeof import('gpt-tokenizer/encoding/o200k_base');
// Loaded on first use: the encoding's tables take ~65 MB, and most texts never need an exact count.
let o200k: O200k | undefined;

export function countTokens(text: string): number {
  o200k ??= createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as O200k;
  return o200k.countTokens(text);
}

/** A cheap upper bound: every token covers at least one UTF-8 byte. */
export function tokenUpperBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A fast estimate for budgets and shard cuts on the hot path (the tokenizer
 * costs more than everything else prepare does): o200k_base averages about
 * 4.6 characters a token on ASCII prose and 0.65 tokens per character in
 * scripts like Hangul, kana or CJK. `estimate` recalibrates it on a sample.
 */
export function approximateTokens(text: string): number {
  // Most source text is ASCII: one native regex scan instead of a character loop.
  if (!NON_ASCII.test(text)) return Math.ceil(text.length / 4.6);
  let ascii = 0;
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) < 128) ascii++;
  return Math.ceil(ascii / 4.6 + (text.length - ascii) * 0.65);
}
