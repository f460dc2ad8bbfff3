/** Parsers for the human units a config accepts: durations and byte sizes. */

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** `30` (seconds), `0.5`, `"500ms"`, `"30s"`, `"2m"`, `"1h"` → milliseconds; undefined when malformed. */
export function parseDurationMs(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = (match[2] ?? 's').toLowerCase();
  return Number(match[1]) * (DURATION_UNITS_MS[unit] ?? 1000);
}

/** `1000000`, `"190MB"`, `"512 KiB"` → bytes; undefined when malformed. */
export function parseByteSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = (match[2] ?? 'b').toLowerCase();
  const bytes = Math.floor(Number(match[1]) * (SIZE_UNITS[unit] ?? 1));
  return bytes > 0 ? bytes : undefined;
}
