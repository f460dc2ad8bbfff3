/**
 * Opens a pipeline's run dir: locks it, decides whether the state there is
 * this run (same identity) or a stale one to replace, and prepares the
 * requests once.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ResponseCache } from '../cache/response-cache.js';
import type { PipelineConfig } from '../config/types.js';
import { TransbatchError } from '../errors.js';
import { sha256File } from '../read/fingerprint.js';
import { RunState, STATE_FILE } from '../state/run-state.js';
import { runIdentity } from './identity.js';
import { acquireRunLock } from './lock.js';
import { type PrepareSummary, prepareRequests, SHARDS_DIR } from './prepare.js';

export const DOWNLOADS_DIR = 'downloads';

export interface RunWorkspace {
  config: PipelineConfig;
  state: RunState;
  identity: string;
  inputSha256: string;
  /** Whether this open started a new run (fresh dir, --fresh, or a changed config/input). */
  isNew: boolean;
  cache: ResponseCache | null;
  close(): void;
}

export interface OpenOptions {
  fresh?: boolean;
  /** Read-only commands (status) must not replace a stale run. */
  readOnly?: boolean;
  log?: (message: string) => void;
}

export async function openWorkspace(config: PipelineConfig, options: OpenOptions = {}): Promise<RunWorkspace> {
  const inputSha256 = await sha256File(config.input.path);
  const identity = runIdentity(config, inputSha256);
  mkdirSync(config.runDir, { recursive: true });
  const release = options.readOnly ? () => {} : acquireRunLock(config.runDir);
  let state: RunState | undefined;
  try {
    if (options.fresh && !options.readOnly) discardRunFiles(config.runDir);
    state = RunState.open(config.runDir);
    const previous = state.getMeta('identity');
    let isNew = previous === undefined;
    if (previous !== undefined && previous !== identity) {
      if (options.readOnly) {
        throw new TransbatchError(
          'state',
          `the run in ${config.runDir} was made from another config or input; run \`transbatch run\` to start the new one`,
        );
      }
      const inFlight = state.shards().filter((shard) => shard.status === 'creating' || shard.status === 'submitted');
      if (inFlight.length > 0) {
        throw new TransbatchError(
          'state',
          `the config or the input changed, but the run in ${config.runDir} still has ${inFlight.length} batch(es) in flight. ` +
            'Restore the previous config to finish it, `transbatch cancel` it, or pass --fresh to abandon it (its batches keep running and are billed).',
        );
      }
      options.log?.('The config or the input changed: starting a new run (cached answers are reused).');
      state.close();
      discardRunFiles(config.runDir);
      state = RunState.open(config.runDir);
      isNew = true;
    }
    if (isNew) {
      state.setMeta('identity', identity);
      state.setMeta('input_sha256', inputSha256);
      state.setMeta('started_at', new Date().toISOString());
      state.event('run.started', { identity, input_sha256: inputSha256 });
    }
    const cache = config.cacheDir && !options.readOnly ? ResponseCache.open(config.cacheDir, cacheScope(config)) : null;
    const opened = state;
    return {
      config,
      state: opened,
      identity,
      inputSha256,
      isNew,
      cache,
      close: () => {
        cache?.close();
        opened.close();
        release();
      },
    };
  } catch (error) {
    state?.close();
    release();
    throw error;
  }
}

/** Removes the run's state and work files; outputs and the response cache are kept. */
function discardRunFiles(runDir: string): void {
  for (const name of [STATE_FILE, `${STATE_FILE}-wal`, `${STATE_FILE}-shm`, SHARDS_DIR, DOWNLOADS_DIR, 'report.json', 'manifest.json']) {
    rmSync(join(runDir, name), { recursive: true, force: true });
  }
}

/** Prepares the requests unless this run already did; returns what prepare found. */
export async function ensurePrepared(
  workspace: RunWorkspace,
  onProgress?: (rows: number) => void,
  options: { exactTokens?: boolean } = {},
): Promise<PrepareSummary> {
  const { state } = workspace;
  const stored = state.getMeta('prepared');
  if (stored) return JSON.parse(stored) as PrepareSummary;
  state.event('prepare.started');
  const summary = await prepareRequests(workspace.config, state, {
    cache: workspace.cache,
    ...(onProgress ? { onProgress } : {}),
    ...(options.exactTokens ? { exactTokens: true } : {}),
  });
  state.setMeta('prepared', JSON.stringify(summary));
  state.event('prepare.finished', { ...summary });
  return summary;
}

/** Who answers this pipeline's requests: cached answers are only reused for the same answerer. */
export function cacheScope(config: PipelineConfig): string {
  const { kind, engine, base_url, upstream_url } = config.provider;
  if (kind === 'local') return `local ${engine}${engine === 'upstream' ? ` ${upstream_url ?? ''}` : ''}`;
  return `${kind} ${base_url ?? process.env['OPENAI_BASE_URL'] ?? 'default'}`;
}
