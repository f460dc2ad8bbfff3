/** Public option, handle and event types of the local Batch API emulator. */
import type { FaultPlan } from './faults.js';

export type EngineName = 'pseudo' | 'echo' | 'upstream';

export interface EmulatorTiming {
  /** Time spent in `validating` before validation starts (default 20 ms). */
  validatingMs?: number;
  /** Time spent in `finalizing` (default 20 ms). */
  finalizingMs?: number;
  /** Delay before each batch request is answered (default 0). */
  perRequestMs?: number;
  /**
   * Latency of each direct call (`POST /v1/chat/completions`, completions,
   * embeddings), default 0. Calls wait in parallel, never behind each other.
   */
  syncMs?: number;
}

export interface EmulatorLimits {
  /** Lines per batch input file (default 50,000). */
  maxRequestsPerFile?: number;
  /** Bytes per batch input file (default 200,000,000). */
  maxBytesPerFile?: number;
  /** Estimated input tokens allowed in flight across batches (default: unlimited). */
  enqueuedTokens?: number;
  /** Requests per minute for direct chat calls (default: unlimited). */
  rpm?: number;
  /** Tokens per minute for direct chat calls: prompt estimate + max_tokens (default: unlimited). */
  tpm?: number;
  /** The sliding window of `rpm`/`tpm` in ms (default 60,000; shorten it in tests). */
  rateWindowMs?: number;
}

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  dataDir: string;
  apiKey: string;
  engine?: EngineName;
  upstreamUrl?: string;
  upstreamApiKey?: string;
  /** Concurrent upstream requests (default 4). */
  upstreamConcurrency?: number;
  faults?: FaultPlan;
  timing?: EmulatorTiming;
  limits?: EmulatorLimits;
  /**
   * Keep every event in `EmulatorHandle.events` (default true: tests read
   * them). A long-lived emulator nobody inspects (`serve`, the CLI's thread)
   * turns it off: a poll every 200 ms adds an event per batch, without end.
   */
  keepEvents?: boolean;
}

export type EmulatorEvent =
  | {
      type: 'http';
      method: string;
      path: string;
      status: number;
      /** When the request arrived and when its answer was finished (ms since the epoch). */
      start: number;
      end: number;
      /** Direct inference calls: `metadata.custom_id`, else the `x-transbatch-custom-id` header. */
      customId?: string;
    }
  | { type: 'file.created'; fileId: string; bytes: number; sha256: string; purpose: string }
  | { type: 'file.deleted'; fileId: string }
  | { type: 'batch.created'; batchId: string; inputFileId: string; inputSha256: string; metadata: Record<string, string> | null }
  | { type: 'batch.status'; batchId: string; status: BatchStatus }
  | { type: 'fault'; fault: string; method: string; path: string };

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface EmulatorHandle {
  /** Base URL including `/v1`: pass it as `baseURL` to the SDK. */
  url: string;
  /** `http://127.0.0.1:<port>`: the `endpoint` of an Azure client (paths under `/openai`). */
  origin: string;
  port: number;
  apiKey: string;
  /** Everything the emulator received and did, in order (empty with `keepEvents: false`; listeners still see them). */
  events: EmulatorEvent[];
  on(listener: (event: EmulatorEvent) => void): () => void;
  close(): Promise<void>;
}

/** Options with every default filled, shared by the server's modules. */
export interface ResolvedSettings {
  dataDir: string;
  apiKey: string;
  timing: Required<EmulatorTiming>;
  limits: { maxRequestsPerFile: number; maxBytesPerFile: number; enqueuedTokens: number };
  /** Extra latency of direct calls: `timing.syncMs` + the fault plan's `sync_latency_ms`. */
  syncLatencyMs: number;
}
