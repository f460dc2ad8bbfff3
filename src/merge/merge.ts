/**
 * merge: streams the input again beside the run state's unit results (both
 * in row order, a sequential merge join: nothing is held but one row) and
 * writes every output file plus its rejects file.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { outputPathFor, rejectsPathFor } from '../config/load.js';
import type { PipelineConfig, ResolvedOutput } from '../config/types.js';
import { readRecords } from '../read/index.js';
import type { DataRecord, SourceRecord } from '../read/types.js';
import { isAlive } from '../run/lock.js';
import { occurrencesOf, splitSettings } from '../split/cells.js';
import type { RunState } from '../state/run-state.js';
import { openRecordWriter } from '../write/index.js';
import type { RecordWriter } from '../write/types.js';
import { applyColumns, applyReplace } from './apply.js';
import { type CellFailure, translateRow } from './assemble.js';
import { joinRowsWithUnits } from './join-rows.js';

export interface OutputFileSummary {
  path: string;
  rejectsPath: string;
  rows: number;
  rejected: number;
}

export interface MergeSummary {
  rowsIn: number;
  files: OutputFileSummary[];
  /** Rejected (row, language) pairs by reason. */
  rejectsByReason: Record<string, number>;
  /** Rows fully translated in every language. */
  rowsComplete: number;
}

interface FileTarget {
  summary: OutputFileSummary;
  writer: RecordWriter;
  rejects: RejectsFile;
}

/**
 * Outputs that differ only in their extension (`a.ko.jsonl`, `a.ko.parquet`)
 * share one rejects file: the same rows are rejected for both, so each row
 * is written once.
 */
interface RejectsFile {
  writer: RecordWriter;
  lastRow: number;
}

/**
 * Writers put their bytes in `<path>.tmp-<pid>` and rename it at the end; a
 * merge killed half-way (SIGKILL, power loss) leaves that file behind. The
 * run dir's lock makes this the only merge of the run, so a temp file of a
 * process that is gone is garbage: remove it before writing again.
 */
function removeStaleTemps(path: string): void {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || (pid !== process.pid && isAlive(pid))) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

/** One output config expands to a file per language (`replace`) or one file for all (`columns`). */
function openTargets(
  output: ResolvedOutput,
  languages: readonly string[],
  columns: readonly string[] | undefined,
  rejectsFiles: Map<string, RejectsFile>,
): Map<string, FileTarget> {
  const targets = new Map<string, FileTarget>();
  const keys = output.mode === 'replace' ? languages : ['*'];
  for (const key of keys) {
    const path = key === '*' ? output.path : outputPathFor(output, key);
    const rejectsPath = rejectsPathFor(path);
    removeStaleTemps(path);
    let rejects = rejectsFiles.get(rejectsPath);
    if (!rejects) {
      removeStaleTemps(rejectsPath);
      rejects = { writer: openRecordWriter(rejectsPath, 'jsonl'), lastRow: -1 };
      rejectsFiles.set(rejectsPath, rejects);
    }
    targets.set(key, {
      summary: { path, rejectsPath, rows: 0, rejected: 0 },
      writer: openRecordWriter(path, output.format, columns ? { columns } : {}),
      rejects,
    });
  }
  return targets;
}

export async function mergeOutputs(config: PipelineConfig, state: RunState, onProgress?: (rows: number) => void): Promise<MergeSummary> {
  const split = splitSettings(config);
  const languages = config.target_languages;
  // The first row fixes the columns of CSV outputs, so a file whose rows were all rejected still has its header.
  const records = readRecords(config.input.path, config.input.format)[Symbol.asyncIterator]();
  const first = await records.next();
  const columnsOf = (output: ResolvedOutput): string[] | undefined => {
    if (first.done || output.format !== 'csv') return undefined;
    const record = first.value.record;
    if (output.mode === 'replace') return Object.keys(record);
    return Object.keys(applyColumns(record, occurrencesOf(record, split), languages, new Map()));
  };
  const rejectsFiles = new Map<string, RejectsFile>();
  const outputs = config.outputs.map((output) => ({ output, targets: openTargets(output, languages, columnsOf(output), rejectsFiles) }));
  const allTargets = outputs.flatMap(({ targets }) => [...targets.values()]);
  const summary: MergeSummary = { rowsIn: 0, files: allTargets.map((target) => target.summary), rejectsByReason: {}, rowsComplete: 0 };

  const rejectLine = (index: number, record: DataRecord, failures: CellFailure[]) => ({
    row_index: index,
    ...(config.input.id !== undefined ? { id: record[config.input.id] ?? null } : {}),
    row: record,
    failures,
  });

  try {
    const rest = { [Symbol.asyncIterator]: () => records };
    async function* all(): AsyncGenerator<SourceRecord> {
      if (!first.done) yield first.value;
      yield* rest;
    }
    for await (const { index, record, units: rowResults } of joinRowsWithUnits(all(), state.unitResults())) {
      const occurrences = occurrencesOf(record, split);
      const translation = translateRow(occurrences, languages, rowResults);
      for (const failures of translation.failed.values()) {
        for (const failure of failures) summary.rejectsByReason[failure.reason] = (summary.rejectsByReason[failure.reason] ?? 0) + 1;
      }
      if (translation.failed.size === 0) summary.rowsComplete++;

      for (const { output, targets } of outputs) {
        if (output.mode === 'replace') {
          for (const lang of languages) {
            const target = targets.get(lang)!;
            const texts = translation.complete.get(lang);
            if (texts) {
              await target.writer.write(applyReplace(record, occurrences, texts));
              target.summary.rows++;
            } else {
              await writeReject(target.rejects, index, () => rejectLine(index, record, translation.failed.get(lang) ?? []));
              target.summary.rejected++;
            }
          }
        } else {
          const target = targets.get('*')!;
          if (translation.failed.size === 0) {
            await target.writer.write(applyColumns(record, occurrences, languages, translation.complete));
            target.summary.rows++;
          } else {
            await writeReject(target.rejects, index, () => rejectLine(index, record, [...translation.failed.values()].flat()));
            target.summary.rejected++;
          }
        }
      }
      summary.rowsIn++;
      if (summary.rowsIn % 5000 === 0) onProgress?.(summary.rowsIn);
    }
    for (const target of allTargets) await target.writer.close();
    for (const rejects of rejectsFiles.values()) await rejects.writer.close();
  } catch (error) {
    await records.return?.();
    await Promise.all([
      ...allTargets.map((target) => target.writer.abort()),
      ...[...rejectsFiles.values()].map((rejects) => rejects.writer.abort()),
    ]);
    throw error;
  }
  onProgress?.(summary.rowsIn);
  return summary;
}

async function writeReject(rejects: RejectsFile, row: number, line: () => DataRecord): Promise<void> {
  if (rejects.lastRow === row) return;
  rejects.lastRow = row;
  await rejects.writer.write(line());
}
