/**
 * The default engine: deterministic pseudo-localization of the last user
 * message. Completion tokens are a chars/4 estimate (exact counting of the
 * accented text costs ~250 µs per request).
 */
import { answerLocally } from './local-answer.js';
import { pseudoLocalize } from './pseudo-text.js';
import type { Engine } from './types.js';
import { estimateTextTokens } from './usage.js';

export function createPseudoEngine(): Engine {
  return async (body) => answerLocally(body, pseudoLocalize, estimateTextTokens);
}
