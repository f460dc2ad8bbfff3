/**
 * Files on disk: `<dataDir>/files/<id>.data` holds the bytes, `<id>.json` the
 * OpenAI file object and its sha256. Metadata is cached in memory; bytes never are.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileObject } from 'openai/resources/files';
import { writeStreamToFile } from '../../block-io.js';
import { newFileId } from '../ids.js';
import { writeJsonAtomic } from './atomic.js';

export interface StoredFile {
  file: FileObject;
  sha256: string;
}

export interface StagedFile {
  tmpPath: string;
  bytes: number;
  sha256: string;
}

const THIRTY_DAYS = 30 * 24 * 3600;

export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private sequence = 0;

  private constructor(private readonly dir: string) {}

  static async open(dataDir: string): Promise<FileStore> {
    const store = new FileStore(join(dataDir, 'files'));
    await mkdir(store.dir, { recursive: true });
    for (const name of await readdir(store.dir)) {
      if (name.endsWith('.tmp')) await rm(join(store.dir, name), { force: true });
      else if (name.endsWith('.json')) {
        const stored = JSON.parse(await readFile(join(store.dir, name), 'utf8')) as StoredFile;
        store.files.set(stored.file.id, stored);
      }
    }
    return store;
  }

  get(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  /** Newest first; ties (same second) broken by insertion order. */
  list(purpose?: string): FileObject[] {
    const all = [...this.files.values()].map((stored) => stored.file).filter((file) => purpose === undefined || file.purpose === purpose);
    return all.reverse().sort((a, b) => b.created_at - a.created_at);
  }

  contentPath(id: string): string {
    return join(this.dir, `${id}.data`);
  }

  /** A temp path inside the store, for writers that hash as they go. */
  tempPath(): string {
    this.sequence += 1;
    return join(this.dir, `staged-${process.pid}-${Date.now()}-${this.sequence}.tmp`);
  }

  /**
   * Streams `source` to a temp file in 512 KB blocks while hashing it. Each
   * chunk is copied before the next is requested, so a source may reuse its
   * buffer (`readBlocks`).
   */
  async stage(source: AsyncIterable<Uint8Array>): Promise<StagedFile> {
    const tmpPath = this.tempPath();
    const hash = createHash('sha256');
    const bytes = await writeStreamToFile(tmpPath, source, (block) => hash.update(block));
    return { tmpPath, bytes, sha256: hash.digest('hex') };
  }

  async register(
    staged: StagedFile,
    filename: string,
    purpose: FileObject['purpose'],
    createdAt: number,
    expiresAfterSeconds = THIRTY_DAYS,
  ): Promise<StoredFile> {
    const id = newFileId();
    const file: FileObject = {
      id,
      object: 'file',
      bytes: staged.bytes,
      created_at: createdAt,
      expires_at: createdAt + expiresAfterSeconds,
      filename,
      purpose,
      status: 'processed',
    };
    const stored: StoredFile = { file, sha256: staged.sha256 };
    await rename(staged.tmpPath, this.contentPath(id));
    await writeJsonAtomic(join(this.dir, `${id}.json`), stored);
    this.files.set(id, stored);
    return stored;
  }

  async discard(staged: StagedFile): Promise<void> {
    await rm(staged.tmpPath, { force: true });
  }

  async delete(id: string): Promise<boolean> {
    if (!this.files.delete(id)) return false;
    await rm(join(this.dir, `${id}.json`), { force: true });
    await rm(this.contentPath(id), { force: true });
    return true;
  }
}
