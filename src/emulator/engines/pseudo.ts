/** The default engine: deterministic pseudo-localization of the last user message. */
import { answerLocally } from './local-answer.js';
import { pseudoLocalize } from './pseudo-text.js';
import type { Engine } from './types.js';

export function createPseudoEngine(): Engine {
  return async (body) => answerLocally(body, pseudoLocalize);
}
