/** Returns the last user message unchanged (JSON mode: the same object back). */
import { answerLocally } from './local-answer.js';
import type { Engine } from './types.js';

const identity = (text: string): string => text;

export function createEchoEngine(): Engine {
  return async (body) => answerLocally(body, identity);
}
