import { sentinel, sentinelsIn } from '../split/protect.js';
import type { Check } from './types.js';

function tally(text: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const index of sentinelsIn(text)) counts.set(index, (counts.get(index) ?? 0) + 1);
  return counts;
}

const listed = (entries: Array<[number, number]>) =>
  entries.map(([index, n]) => (n > 1 ? `${sentinel(index)} ×${n}` : sentinel(index))).join(', ');

/** Every protected span must come back exactly as often as it was sent. */
export const placeholders: Check = ({ sent, answer }) => {
  const expected = tally(sent);
  const found = tally(answer);
  const indexes = [...new Set([...expected.keys(), ...found.keys()])].sort((a, b) => a - b);
  const missing: Array<[number, number]> = [];
  const extra: Array<[number, number]> = [];
  for (const index of indexes) {
    const diff = (found.get(index) ?? 0) - (expected.get(index) ?? 0);
    if (diff < 0) missing.push([index, -diff]);
    else if (diff > 0) extra.push([index, diff]);
  }
  const parts = [missing.length > 0 ? `missing ${listed(missing)}` : '', extra.length > 0 ? `extra ${listed(extra)}` : ''];
  const detail = parts.filter(Boolean).join('; ');
  return detail === '' ? null : detail;
};
