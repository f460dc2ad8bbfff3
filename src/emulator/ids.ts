/** Object ids: random for new objects, strict patterns before any disk access. */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** Deterministic token, so reprocessing a batch after a restart yields the same ids. */
export function stableToken(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').replace(/[-_]/g, '').slice(0, 24);
}

export const newFileId = (): string => `file-${randomToken(24)}`;
export const newBatchId = (): string => `batch_${randomToken(24)}`;
export const newUploadId = (): string => `upload_${randomToken(24)}`;
export const newPartId = (): string => `part_${randomToken(24)}`;

const FILE_ID = /^file-[A-Za-z0-9]{1,64}$/;
const BATCH_ID = /^batch_[A-Za-z0-9]{1,64}$/;
const UPLOAD_ID = /^upload_[A-Za-z0-9]{1,64}$/;

export const isFileId = (id: string): boolean => FILE_ID.test(id);
export const isBatchId = (id: string): boolean => BATCH_ID.test(id);
export const isUploadId = (id: string): boolean => UPLOAD_ID.test(id);
