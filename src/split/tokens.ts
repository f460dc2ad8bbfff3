/** Token counts for chunking and estimates, in the o200k_base encoding of the GPT-4o / GPT-5 families. */
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

export function countTokens(text: string): number {
  return countO200k(text);
}

/** A cheap upper bound: every token covers at least one UTF-8 byte. */
export function tokenUpperBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
