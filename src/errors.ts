/**
 * One error model for the whole tool. The library throws TransbatchError;
 * the CLI's single error boundary prints `message` as one paragraph and exits
 * with `exitCode`. Anything else that escapes is a bug and keeps its stack.
 */
export type ErrorCode =
  | 'usage' // bad command line
  | 'config' // invalid pipeline config
  | 'input' // unreadable or malformed dataset
  | 'auth' // missing or refused API key
  | 'api' // the provider refused a request we cannot fix by retrying
  | 'batch_failed' // a batch failed validation: our input is wrong
  | 'state' // the run dir is unusable (locked, corrupt, from another tool version)
  | 'cost' // refused by the cost guard
  | 'interrupted'; // stopped by the user or a deadline; resumable

export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  key?: string;
  customId?: string;
  batchId?: string;
}

export class TransbatchError extends Error {
  override readonly name = 'TransbatchError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.context = context;
  }

  /** Exit codes from SPEC.md: 1 = nothing done / user error, 3 = not finished, resumable. */
  get exitCode(): 1 | 3 {
    return this.code === 'interrupted' ? 3 : 1;
  }

  /** `file:line: ` prefix, when the error points into a file. */
  get where(): string {
    const { file, line } = this.context;
    if (!file) return '';
    return line === undefined ? `${file}: ` : `${file}:${line}: `;
  }
}

export function isTransbatchError(error: unknown): error is TransbatchError {
  return error instanceof TransbatchError;
}
