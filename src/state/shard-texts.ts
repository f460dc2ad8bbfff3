/**
 * Request texts kept in the shard files rather than in the run state: a
 * queued request's text is its line's user content, so prepare records only
 * where that content is (shard, byte offset, length) and this reads it back.
 * At 1M rows the state is 391 MB instead of 1.4 GB, and prepare writes ~2 GB
 * less (WAL and checkpoint). Shard files are never rewritten or removed while
 * the run dir lives (retries copy lines into new shards; the first one keeps
 * the text).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { TransbatchError } from '../errors.js';

/** The requests columns that say where a text is in a shard. */
export const TEXT_LOCATION_COLUMNS = ['text_shard', 'text_at', 'text_bytes'] as const;

/** The requests columns a StoredText is selected from, each prefixed with the table's alias. */
export function storedTextColumns(alias: string): string {
  return ['text', ...TEXT_LOCATION_COLUMNS].map((column) => `${alias}.${column}`).join(', ');
}

/** A request's text as stored: `text`, unless `text_shard` says where its line's content is. */
export interface StoredText {
  text: string | Buffer;
  text_shard: number | null;
  text_at: number | null;
  text_bytes: number | null;
}

/** Rows of one shard whose contents lie this close together are read in one go (a page of collect's rows spans ~300 KB). */
const MAX_SPAN_BYTES = 4 * 1024 * 1024;
/** Shard files kept open: collect reads one shard's texts at a time, a retry shard's come from a few. */
const MAX_OPEN_FILES = 8;

export class ShardTexts {
  private readonly files = new Map<number, { fd: number; path: string }>();

  /** `pathOf`: the file of shard `number` (from the shards table). */
  constructor(private readonly pathOf: (number: number) => string | undefined) {}

  /**
   * Replaces the `text` of rows whose text is in a shard by the bytes of
   * their line's content (a JSON string literal: requestText decodes it).
   * Rows next to each other in one shard are read with one read.
   */
  attach<Row extends StoredText>(rows: Row[]): Row[] {
    for (let first = 0; first < rows.length; ) {
      const start = rows[first]!;
      if (start.text_shard === null) {
        first++;
        continue;
      }
      let last = first;
      let end = start.text_at! + start.text_bytes!;
      while (last + 1 < rows.length) {
        const next = rows[last + 1]!;
        if (next.text_shard !== start.text_shard || next.text_at! < end) break;
        const nextEnd = next.text_at! + next.text_bytes!;
        if (nextEnd - start.text_at! > MAX_SPAN_BYTES) break;
        end = nextEnd;
        last++;
      }
      const bytes = this.read(start.text_shard, start.text_at!, end - start.text_at!);
      for (let index = first; index <= last; index++) {
        const row = rows[index]!;
        const from = row.text_at! - start.text_at!;
        row.text = bytes.subarray(from, from + row.text_bytes!);
      }
      first = last + 1;
    }
    return rows;
  }

  close(): void {
    for (const { fd } of this.files.values()) closeSync(fd);
    this.files.clear();
  }

  private read(shard: number, at: number, length: number): Buffer {
    const file = this.open(shard);
    const bytes = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const read = readSync(file.fd, bytes, done, length - done, at + done);
      if (read === 0) {
        throw new TransbatchError(
          'state',
          `${file.path} ends before byte ${at + length}: the shard files hold the texts of the run's requests and must stay as prepare wrote them; use --fresh to prepare again`,
          { file: file.path },
        );
      }
      done += read;
    }
    return bytes;
  }

  private open(shard: number): { fd: number; path: string } {
    const open = this.files.get(shard);
    if (open) {
      // Most recently used last: the first one is the one to close.
      this.files.delete(shard);
      this.files.set(shard, open);
      return open;
    }
    const path = this.pathOf(shard);
    if (path === undefined) throw new TransbatchError('state', `the run state has request texts in shard ${shard}, which it does not list`);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw new TransbatchError(
        'state',
        `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): the shard files hold the texts of the run's requests and must stay as prepare wrote them; use --fresh to prepare again`,
        { file: path },
      );
    }
    if (this.files.size >= MAX_OPEN_FILES) {
      const [oldest, file] = this.files.entries().next().value!;
      closeSync(file.fd);
      this.files.delete(oldest);
    }
    const file = { fd, path };
    this.files.set(shard, file);
    return file;
  }
}
