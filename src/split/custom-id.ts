/**
 * Deterministic custom_ids. A unit's request: `r<row>.c<cell>.<lang>.k<chunk>`;
 * a packed request (every short cell of a row in one language):
 * `r<row>.<lang>.pack`. The row comes first so results sort and bucket by
 * row; at most 64 ASCII characters (row ≤ 10 digits, cell ≤ 5, lang ≤ 24,
 * chunk ≤ 5).
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

export function packedCustomIdOf(row: number, lang: string): string {
  return `r${row}.${lang}.pack`;
}

export type ParsedCustomId = ({ packed: false } & UnitKey) | { packed: true; row: number; lang: string };

const UNIT_ID = /^r(\d+)\.c(\d+)\.([A-Za-z0-9-]+)\.k(\d+)$/;
const PACKED_ID = /^r(\d+)\.([A-Za-z0-9-]+)\.pack$/;

export function parseCustomId(customId: string): ParsedCustomId | undefined {
  const unit = UNIT_ID.exec(customId);
  if (unit) return { packed: false, row: Number(unit[1]), cell: Number(unit[2]), lang: unit[3]!, chunk: Number(unit[4]) };
  const packed = PACKED_ID.exec(customId);
  if (packed) return { packed: true, row: Number(packed[1]), lang: packed[2]! };
  return undefined;
}
