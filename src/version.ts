import { createRequire } from 'node:module';

/** The package version (read from package.json, which sits two levels up from both src/ and dist/). */
export const TOOL_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
