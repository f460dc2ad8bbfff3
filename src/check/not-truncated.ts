import type { Check } from './types.js';

export const notTruncated: Check = ({ finishReason }) =>
  finishReason === 'length' ? 'the answer was cut off at the token limit (finish_reason: length)' : null;
