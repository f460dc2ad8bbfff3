/** What every route handler receives. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BatchRunner } from '../batch/runner.js';
import type { FaultState } from '../fault-state.js';
import type { HttpFault } from '../faults.js';
import type { RateLimits } from '../rate-limits.js';
import type { Responder } from '../responder.js';
import type { BatchStore } from '../store/batch-store.js';
import type { FileStore } from '../store/file-store.js';
import type { UploadStore } from '../store/upload-store.js';
import type { EmulatorEvent, ResolvedSettings } from '../types.js';

export interface ServerDeps {
  settings: ResolvedSettings;
  files: FileStore;
  uploads: UploadStore;
  batches: BatchStore;
  runner: BatchRunner;
  responder: Responder;
  faults: FaultState;
  emit: (event: EmulatorEvent) => void;
  /** Registered so close() can cut hanging responses short. */
  hangs: Set<AbortController>;
  /** rpm/tpm of direct chat calls. */
  rateLimits: RateLimits;
}

/** What a route tells the request's `http` event. */
export interface RequestNote {
  customId?: string;
  /** Azure: the deployment named in the path (the model when the body has none). */
  deployment?: string;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The id captured from the path, already checked against its strict pattern. */
  id: string;
  /** A create_then_* fault to apply after the handler did its work. */
  fault: HttpFault | undefined;
  deps: ServerDeps;
  note: RequestNote;
}

export type RouteHandler = (context: RouteContext) => Promise<void>;
