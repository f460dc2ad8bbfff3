/** `replaced`: a packed request whose cells were sent again one by one. */
export type RequestStatus = 'queued' | 'retry' | 'done' | 'rejected' | 'replaced';
export type ResultSource = 'batch' | 'sync' | 'cache';
/**
 * built → uploaded (file id known) → creating (marked before batches.create)
 * → submitted (batch id known) → collected (terminal batch recorded).
 * A batch failed for token limits goes back to `uploaded` with a not_before time.
 */
export type ShardStatus = 'built' | 'uploaded' | 'creating' | 'submitted' | 'collected';

export interface ShardRow {
  number: number;
  path: string;
  attempt: number;
  lines: number;
  bytes: number;
  input_tokens: number;
  sha256: string;
  status: ShardStatus;
  file_id: string | null;
  batch_id: string | null;
  batch_status: string | null;
  creates: number;
  marked_at: number;
  not_before: number;
  completed: number;
  failed: number;
  total: number;
}

/** A collected outcome for one request. */
export type RequestOutcome =
  | { kind: 'done'; content: string; finishReason: string | null; promptTokens: number; completionTokens: number; source: ResultSource }
  | { kind: 'retry'; reason: string; detail: string; promptTokens: number; completionTokens: number }
  | { kind: 'rejected'; reason: string; detail: string; promptTokens: number; completionTokens: number };

/** One unit's result as merge sees it, in (row, cell, lang, chunk) order. */
export interface UnitResult {
  row: number;
  cell: number;
  lang: string;
  chunk: number;
  status: RequestStatus;
  content: string | null;
  reason: string | null;
  detail: string | null;
  pack_key: string | null;
}

export interface TokenEstimate {
  input: number;
  output: number;
}

export interface TokenTotals {
  /** Estimated input tokens of every distinct request, cached ones included. */
  inputTokens: number;
  expectedOutputTokens: number;
  /** The same without the requests answered from the cache. */
  billableInputTokens: number;
  billableOutputTokens: number;
  /** Usage reported by the provider. */
  promptTokens: number;
  completionTokens: number;
  requests: number;
  cached: number;
}

export interface NewRequest {
  customId: string;
  hash: Buffer;
  row: number;
  text: string;
  tokens: TokenEstimate;
}
