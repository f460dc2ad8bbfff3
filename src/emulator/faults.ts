/**
 * The emulator's fault plan: which failures to inject, for tests and rehearsals.
 * Load it from YAML/JSON (`loadFaultPlan(path)`) or pass an object
 * (`parseFaultPlan(value)`). Every section is optional.
 *
 * ```yaml
 * http:                                   # HTTP-level faults, first `times` matching calls
 *   - route: POST /v1/files               # "METHOD /v1/path"; {id} matches any id
 *     status: 429                         # 429 (with Retry-After) | 500 | 502 | 503
 *     retry_after_seconds: 1
 *     times: 2                            # default 1
 *   - route: GET /v1/batches/{id}
 *     status: 500
 *   - route: POST /v1/batches
 *     action: create_then_error           # create the batch, then answer `status` (default 500):
 *     times: 1                            #   the SDK retries and creates a DUPLICATE
 *   - route: POST /v1/batches
 *     action: create_then_hang            # create the batch, answer only after hang_ms
 *     hang_ms: 5000
 * batches:                                # outcome of matching batches (first `times`, default all)
 *   - match: { nth: 2 }                   # the 2nd batch created in this data dir
 *     outcome: token_limit_exceeded       # status failed, errors.data[0].code token_limit_exceeded
 *   - match: { metadata: { shard: "3" } } # every listed pair must be equal
 *     outcome: expire                     # expired after `after` processed requests; the rest
 *     after: 5                            #   become batch_expired error lines
 *   - match: { nth: 4 }
 *     outcome: cancel                     # cancelled after `after` processed requests
 *     after: 10
 * requests:                               # per-request faults, in batches and sync calls
 *   - custom_id: "^shard0-1[0-9]$"        # regex; sync calls match metadata.custom_id,
 *                                         #   else the x-transbatch-custom-id header
 *     kind: error
 *     status: 500                         # 500 | 400 (an error line with that status)
 *     times: 1                            # first N attempts of each custom_id; omit = always
 *   - custom_id: "-7$"
 *     kind: truncate                      # finish_reason "length", content cut in half
 *     times: 1
 * shuffle: { window: 256, seed: 1 }       # or `true`: deterministic windowed output shuffle
 * delay_ms_per_request: 5                 # slows processing (on top of timing.perRequestMs)
 * enqueued_tokens: 100000                 # like limits.enqueuedTokens
 * sync_latency_ms: 200                    # latency of each direct call (on top of timing.syncMs)
 * rate_limits: { rpm: 60, tpm: 100000, window_ms: 60000 }   # like limits.rpm / tpm / rateWindowMs
 * ```
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const ROUTE = /^(GET|POST|DELETE) \/v1\/[A-Za-z0-9_/{}.-]+$/;
const route = z.string().regex(ROUTE, 'expected "METHOD /v1/path", e.g. "POST /v1/batches" or "GET /v1/batches/{id}"');
const times = z.number().int().min(1);

const httpStatusFault = z.strictObject({
  route,
  action: z.literal('error').default('error'),
  status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]),
  retry_after_seconds: z.number().int().min(0).default(1),
  times: times.default(1),
});

const createThenError = z.strictObject({
  route: z.literal('POST /v1/batches'),
  action: z.literal('create_then_error'),
  status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(500),
  times: times.default(1),
});

const createThenHang = z.strictObject({
  route: z.literal('POST /v1/batches'),
  action: z.literal('create_then_hang'),
  hang_ms: z.number().int().min(0).default(30_000),
  times: times.default(1),
});

const batchMatch = z.union([
  z.strictObject({ nth: z.number().int().min(1) }),
  z.strictObject({ metadata: z.record(z.string(), z.string()) }),
]);

const batchRule = z.discriminatedUnion('outcome', [
  z.strictObject({ match: batchMatch, outcome: z.literal('token_limit_exceeded'), times: times.optional() }),
  z.strictObject({ match: batchMatch, outcome: z.literal('expire'), after: z.number().int().min(0), times: times.optional() }),
  z.strictObject({ match: batchMatch, outcome: z.literal('cancel'), after: z.number().int().min(0), times: times.optional() }),
]);

const regex = z.string().refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

const requestRule = z.discriminatedUnion('kind', [
  z.strictObject({
    custom_id: regex,
    kind: z.literal('error'),
    status: z.union([z.literal(500), z.literal(400)]),
    times: times.optional(),
  }),
  z.strictObject({ custom_id: regex, kind: z.literal('truncate'), times: times.optional() }),
]);

export const faultPlanSchema = z.strictObject({
  http: z.array(z.union([httpStatusFault, createThenError, createThenHang])).default([]),
  batches: z.array(batchRule).default([]),
  requests: z.array(requestRule).default([]),
  shuffle: z
    .union([z.boolean(), z.strictObject({ window: z.number().int().min(2).default(256), seed: z.number().int().default(1) })])
    .default(false),
  delay_ms_per_request: z.number().min(0).default(0),
  enqueued_tokens: z.number().int().min(1).optional(),
  sync_latency_ms: z.number().min(0).default(0),
  rate_limits: z
    .strictObject({
      rpm: z.number().int().min(1).optional(),
      tpm: z.number().int().min(1).optional(),
      window_ms: z.number().int().min(1).optional(),
    })
    .optional(),
});

/** What a caller writes (defaults optional). */
export type FaultPlan = z.input<typeof faultPlanSchema>;
/** What the emulator uses (defaults filled). */
export type ResolvedFaultPlan = z.output<typeof faultPlanSchema>;
export type HttpFault = ResolvedFaultPlan['http'][number];
export type BatchRule = ResolvedFaultPlan['batches'][number];
export type RequestRule = ResolvedFaultPlan['requests'][number];

export function parseFaultPlan(value: unknown): ResolvedFaultPlan {
  const result = faultPlanSchema.safeParse(value ?? {});
  if (!result.success) throw new Error(`invalid fault plan: ${describeIssues(result.error.issues).join('; ')}`);
  return result.data;
}

type Issue = { path: PropertyKey[]; message: string; code?: string; errors?: Issue[][] };

/** Flattens union errors to the closest branch, so messages name the offending key. */
function describeIssues(issues: readonly Issue[], prefix: PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      if (closest.length > 0) return describeIssues(closest, path);
    }
    return [`${path.map(String).join('.') || '(root)'}: ${issue.message}`];
  });
}

/** Reads a fault plan from a YAML or JSON file (JSON is valid YAML). */
export async function loadFaultPlan(path: string): Promise<ResolvedFaultPlan> {
  // Loaded here only: the emulator's worker thread never reads YAML.
  const { parse: parseYaml } = await import('yaml');
  return parseFaultPlan(parseYaml(await readFile(path, 'utf8')));
}
