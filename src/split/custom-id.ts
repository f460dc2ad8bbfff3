/**
 * Deterministic custom_ids: `r<row>.c<cell>.<lang>.k<chunk>`. The row comes
 * first so results sort and bucket by row; at most 64 ASCII characters
 * (row ≤ 10 digits, cell ≤ 5, lang ≤ 24, chunk ≤ 5).
 */
export interface UnitKey {
  row: number;
  cell: number;
  lang: string;
  chunk: number;
}

export function customIdOf(key: UnitKey): string {
  return `r${key.row}.c${key.cell}.${key.lang}.k${key.chunk}`;
}

const CUSTOM_ID = /^r(\d+)\.c(\d+)\.([A-Za-z0-9-]+)\.k(\d+)$/;

export function parseCustomId(customId: string): UnitKey | undefined {
  const match = CUSTOM_ID.exec(customId);
  if (!match) return undefined;
  return { row: Number(match[1]), cell: Number(match[2]), lang: match[3]!, chunk: Number(match[4]) };
}
