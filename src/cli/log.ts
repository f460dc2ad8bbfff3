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

export function createLogger(io: CliIo, options: { quiet?: boolean; secrets?: readonly string[] } = {}): Logger {
  const colour = io.isTty && !('NO_COLOR' in io.env);
  const paint = (style: keyof typeof STYLES, text: string) =>
    colour ? `\u001b[${STYLES[style][0]}m${text}\u001b[${STYLES[style][1]}m` : text;
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 6);
  const redact = (text: string) => secrets.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), text);
  const quiet = options.quiet ?? false;
  return {
    quiet,
    info: (message) => {
      if (!quiet) io.stderr.write(`${redact(message)}\n`);
    },
    warn: (message) => io.stderr.write(`${paint('yellow', 'warning:')} ${redact(message)}\n`),
    error: (message) => io.stderr.write(`${paint('red', 'error:')} ${redact(message)}\n`),
    out: (text) => io.stdout.write(`${redact(text)}\n`),
  };
}
