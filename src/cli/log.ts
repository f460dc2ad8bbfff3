/**
 * Human output goes to stderr (data goes to stdout). Colours only on a TTY
 * and never with NO_COLOR. Every line passes through redaction so a secret
 * that slipped into a message never reaches the terminal.
 */
import type { CliIo } from './context.js';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Data for machines or the primary result, on stdout. */
  out(text: string): void;
  readonly quiet: boolean;
}

const STYLES = { red: [31, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22], green: [32, 39] } as const;

/** Colours only on a TTY and never with NO_COLOR (https://no-color.org). */
export function colourEnabled(io: CliIo): boolean {
  return io.isTty && !('NO_COLOR' in io.env);
}

export interface LoggerOptions {
  quiet?: boolean;
  secrets?: readonly string[];
  /** Where stderr lines go (default io.stderr); a live progress display passes its own so lines print above the bars. */
  writeLine?: (line: string) => void;
}

export function createLogger(io: CliIo, options: LoggerOptions = {}): Logger {
  const colour = colourEnabled(io);
  const line = options.writeLine ?? ((text: string) => io.stderr.write(`${text}\n`));
  const paint = (style: keyof typeof STYLES, text: string) =>
    colour ? `\u001b[${STYLES[style][0]}m${text}\u001b[${STYLES[style][1]}m` : text;
  // Read at each line, not copied: commands add the provider's key once it is known.
  const secrets = options.secrets ?? [];
  const redact = (text: string) => secrets.reduce((out, secret) => (secret.length >= 6 ? out.replaceAll(secret, '[redacted]') : out), text);
  const quiet = options.quiet ?? false;
  return {
    quiet,
    info: (message) => {
      if (!quiet) line(redact(message));
    },
    warn: (message) => line(`${paint('yellow', 'warning:')} ${redact(message)}`),
    error: (message) => line(`${paint('red', 'error:')} ${redact(message)}`),
    out: (text) => io.stdout.write(`${redact(text)}\n`),
  };
}
