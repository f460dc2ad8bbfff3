/**
 * The checks that can judge this provider's answers. The emulator's pseudo
 * and echo engines do not write the target language (and echo returns the
 * text unchanged), so those checks would reject every answer of a rehearsal.
 */
import type { CheckName } from '../config/schema.js';
import type { PipelineConfig } from '../config/types.js';

export function effectiveChecks(config: Pick<PipelineConfig, 'checks' | 'provider'>): CheckName[] {
  const { kind, engine } = config.provider;
  if (kind !== 'local' || engine === 'upstream') return [...config.checks];
  const unjudgeable: CheckName[] = engine === 'echo' ? ['language', 'unchanged', 'length_ratio'] : ['language'];
  return config.checks.filter((check) => !unjudgeable.includes(check));
}
