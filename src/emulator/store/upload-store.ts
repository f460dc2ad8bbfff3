/**
 * Uploads (the multi-part Uploads API): the Upload objects live in memory,
 * each part's bytes in `<dataDir>/uploads/<upload_id>/<part_id>.part`. An
 * Upload lasts an hour, so a restarted emulator starts with none (the
 * directory is cleared on open). Completing concatenates the parts, streamed,
 * into a regular stored file.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FileObject } from 'openai/resources/files';
import type { UploadPart } from 'openai/resources/uploads/parts';
import type { Upload } from 'openai/resources/uploads/uploads';
import { readBlocks, writeStreamToFile } from '../../block-io.js';
import { newPartId, newUploadId } from '../ids.js';

export interface StoredPart {
  part: UploadPart;
  path: string;
  bytes: number;
}

export interface UploadRecord {
  upload: Upload;
  mimeType: string;
  expiresAfterSeconds: number | undefined;
  parts: Map<string, StoredPart>;
}

export const UPLOAD_LIFETIME_SECONDS = 3600;

export class UploadStore {
  private readonly uploads = new Map<string, UploadRecord>();

  private constructor(private readonly dir: string) {}

  static async open(dataDir: string): Promise<UploadStore> {
    const dir = join(dataDir, 'uploads');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return new UploadStore(dir);
  }

  create(fields: {
    bytes: number;
    filename: string;
    purpose: FileObject['purpose'];
    mimeType: string;
    createdAt: number;
    expiresAfterSeconds: number | undefined;
  }): UploadRecord {
    const upload: Upload = {
      id: newUploadId(),
      object: 'upload',
      bytes: fields.bytes,
      created_at: fields.createdAt,
      expires_at: fields.createdAt + UPLOAD_LIFETIME_SECONDS,
      filename: fields.filename,
      purpose: fields.purpose,
      status: 'pending',
      file: null,
    };
    const record: UploadRecord = {
      upload,
      mimeType: fields.mimeType,
      expiresAfterSeconds: fields.expiresAfterSeconds,
      parts: new Map(),
    };
    this.uploads.set(upload.id, record);
    return record;
  }

  /** The record, with `pending` turned `expired` once its hour is over. */
  get(id: string, now: number): UploadRecord | undefined {
    const record = this.uploads.get(id);
    if (record && record.upload.status === 'pending' && now >= record.upload.expires_at) {
      record.upload = { ...record.upload, status: 'expired' };
      void this.dropParts(record);
    }
    return record;
  }

  /** Streams one part to disk (kept only once `keepPart` accepts it). */
  async addPart(record: UploadRecord, source: Readable, createdAt: number): Promise<StoredPart> {
    const id = newPartId();
    const dir = join(this.dir, record.upload.id);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${id}.part`);
    // The socket's chunks (~64 KB) gathered into 512 KB writes.
    const bytes = await writeStreamToFile(path, source as AsyncIterable<Buffer>);
    return { part: { id, object: 'upload.part', created_at: createdAt, upload_id: record.upload.id }, path, bytes };
  }

  keepPart(record: UploadRecord, part: StoredPart): void {
    record.parts.set(part.part.id, part);
  }

  async discardPart(part: StoredPart): Promise<void> {
    await rm(part.path, { force: true });
  }

  /** The parts' bytes in the given order, in 512 KB views of one reused buffer (each valid until the next is requested). */
  async *concatenate(parts: readonly StoredPart[]): AsyncGenerator<Buffer> {
    for (const part of parts) yield* readBlocks(part.path);
  }

  async dropParts(record: UploadRecord): Promise<void> {
    record.parts.clear();
    await rm(join(this.dir, record.upload.id), { recursive: true, force: true });
  }
}
