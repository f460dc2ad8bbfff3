/** The answer checks, run in a fixed order; the first failure is the reason. */
import type { CheckName } from '../config/schema.js';
import type { PipelineConfig } from '../config/types.js';
import { language } from './language.js';
import { lengthRatio } from './length-ratio.js';
import { nonempty } from './nonempty.js';
import { notTruncated } from './not-truncated.js';
import { placeholders } from './placeholders.js';
import type { Check, CheckOptions, CheckResult, CheckSubject } from './types.js';
import { unchanged } from './unchanged.js';

export type { Check, CheckOptions, CheckResult, CheckSubject } from './types.js';

// Cheap and certain checks first; the statistical language check last.
export const CHECKS: ReadonlyArray<readonly [CheckName, Check]> = [
  ['not_truncated', notTruncated],
  ['nonempty', nonempty],
  ['placeholders', placeholders],
  ['unchanged', unchanged],
  ['length_ratio', lengthRatio],
  ['language', language],
];

export function runChecks(subject: CheckSubject, enabled: readonly CheckName[], options: CheckOptions): CheckResult {
  for (const [name, check] of CHECKS) {
    if (!enabled.includes(name)) continue;
    const detail = check(subject, options);
    if (detail !== null) return { ok: false, check: name, detail };
  }
  return { ok: true };
}

export function checkOptions(config: Pick<PipelineConfig, 'check_options'>): CheckOptions {
  const { length_ratio, language_min_chars } = config.check_options;
  return { lengthRatio: { min: length_ratio.min, max: length_ratio.max }, languageMinChars: language_min_chars };
}
