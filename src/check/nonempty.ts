import type { Check } from './types.js';

export const nonempty: Check = ({ sent, answer }) => (sent.trim() !== '' && answer.trim() === '' ? 'the answer is empty' : null);
