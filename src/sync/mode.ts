/**
 * `mode: auto`: direct calls when what is left to send is small (fewer than
 * `batch.min_requests`), the Batch API otherwise. Batches already in flight
 * always finish as batches, so nothing is sent twice.
 */
import type { PipelineConfig } from '../config/types.js';
import type { RunState } from '../state/run-state.js';
import { requestsLeft, shardsInFlight } from './sync-loop.js';

export type SendMode = 'batch' | 'sync';

export function chooseSendMode(config: PipelineConfig, state: RunState): { mode: SendMode; why: string } {
  if (config.mode === 'batch') return { mode: 'batch', why: 'mode: batch' };
  if (config.mode === 'sync') return { mode: 'sync', why: 'mode: sync' };
  if (shardsInFlight(state).length > 0) return { mode: 'batch', why: 'mode: auto, batches already in flight' };
  const left = requestsLeft(state);
  const min = config.batch.min_requests;
  return left < min
    ? { mode: 'sync', why: `mode: auto, ${left} request(s) left < batch.min_requests ${min}` }
    : { mode: 'batch', why: `mode: auto, ${left} request(s) left >= batch.min_requests ${min}` };
}
