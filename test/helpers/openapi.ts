/**
 * Validates wire objects against the OpenAI OpenAPI extract in
 * `../shared/reference/openai-batch-schemas.json`, so tests prove that what we
 * serve or parse has the real API's shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const DOCUMENT_ID = 'https://transbatch.local/openai-batch-schemas.json';

function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const SCHEMAS_PATH = join(
  findRepoRoot(dirname(fileURLToPath(import.meta.url))),
  '..',
  'shared',
  'reference',
  'openai-batch-schemas.json',
);

type JsonObject = Record<string, unknown>;

/** OpenAPI 3.0 `nullable: true` → JSON Schema `type: [T, 'null']` (recursively). */
export function translateNullable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(translateNullable);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema as JsonObject)) {
    if (key !== 'nullable') out[key] = translateNullable(value);
  }
  if ((schema as JsonObject)['nullable'] === true) {
    if (typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
    // `nullable` beside oneOf/allOf/$ref (no type of its own): null or the schema.
    else if (out['type'] === undefined) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

let ajv: Ajv2020 | undefined;
let legacyNames: Set<string> | undefined;
let componentNames: Set<string> | undefined;
const compiled = new Map<string, ValidateFunction>();

function getAjv(): Ajv2020 {
  if (ajv) return ajv;
  const document = JSON.parse(readFileSync(SCHEMAS_PATH, 'utf8')) as JsonObject;
  const legacy = (document['x-legacy-schemas'] as { schemas: JsonObject }).schemas;
  const components = (document['components'] as { schemas: JsonObject }).schemas;
  componentNames = new Set(Object.keys(components));
  legacyNames = new Set(Object.keys(legacy));
  const instance = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(instance);
  // OpenAPI-specific formats: accepted as annotations.
  instance.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  instance.addFormat('binary', true);
  // The extract keeps OpenAPI 3.0 `nullable` in places (CreateChatCompletionRequest, StopConfiguration…): translate everywhere.
  instance.addSchema({
    ...document,
    $id: DOCUMENT_ID,
    components: { ...(document['components'] as JsonObject), schemas: translateNullable(components) },
    'x-legacy-schemas': { schemas: translateNullable(legacy) },
  });
  ajv = instance;
  return instance;
}

function validatorFor(name: string): ValidateFunction {
  const cached = compiled.get(name);
  if (cached) return cached;
  const instance = getAjv();
  let pointer: string;
  if (componentNames?.has(name)) pointer = `#/components/schemas/${name}`;
  else if (legacyNames?.has(name)) pointer = `#/x-legacy-schemas/schemas/${name}`;
  else throw new Error(`unknown schema ${JSON.stringify(name)}`);
  const validate = instance.compile({ $ref: `${DOCUMENT_ID}${pointer}` });
  compiled.set(name, validate);
  return validate;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  return `${where} ${error.message ?? 'is invalid'}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`;
}

/** Validation errors of `value` against the named schema; empty when valid. */
export function validateSchema(name: string, value: unknown): string[] {
  const validate = validatorFor(name);
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
}

/** Throws with every validation error when `value` does not match the named schema. */
export function assertValid(name: string, value: unknown): void {
  const errors = validateSchema(name, value);
  if (errors.length > 0) throw new Error(`${name} is invalid:\n  ${errors.join('\n  ')}`);
}
