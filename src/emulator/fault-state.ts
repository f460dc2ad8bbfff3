/**
 * Runtime side of the fault plan: counts matching calls, batches and attempts
 * so "the first N" faults fire exactly N times. Counters live in memory.
 */
import type { BatchRule, HttpFault, ResolvedFaultPlan } from './faults.js';

export type BatchOutcome =
  | { kind: 'normal' }
  | { kind: 'token_limit_exceeded' }
  | { kind: 'expire'; after: number }
  | { kind: 'cancel'; after: number };

export type RequestFault = { kind: 'none' } | { kind: 'error'; status: 400 | 500 } | { kind: 'truncate' };

function routeMatches(pattern: string, method: string, path: string): boolean {
  const [patternMethod, patternPath] = pattern.split(' ');
  if (patternMethod !== method || patternPath === undefined) return false;
  const regex = new RegExp(`^${patternPath.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{id\}/g, '[^/]+')}$`);
  return regex.test(path);
}

function batchRuleMatches(rule: BatchRule, nth: number, metadata: Record<string, string> | null): boolean {
  if ('nth' in rule.match) return rule.match.nth === nth;
  return Object.entries(rule.match.metadata).every(([key, value]) => metadata?.[key] === value);
}

export class FaultState {
  private readonly httpFired = new Map<number, number>();
  private readonly batchFired = new Map<number, number>();
  private readonly attempts = new Map<string, number>();
  private readonly requestRegexes: RegExp[];

  constructor(readonly plan: ResolvedFaultPlan) {
    this.requestRegexes = plan.requests.map((rule) => new RegExp(rule.custom_id));
  }

  /** The HTTP fault to inject for this call, if any (and counts it). */
  takeHttpFault(method: string, path: string): HttpFault | undefined {
    for (const [index, fault] of this.plan.http.entries()) {
      if (!routeMatches(fault.route, method, path)) continue;
      const fired = this.httpFired.get(index) ?? 0;
      if (fired >= fault.times) continue;
      this.httpFired.set(index, fired + 1);
      return fault;
    }
    return undefined;
  }

  /** Decided once at creation and stored with the batch, so restarts replay it. */
  batchOutcome(nth: number, metadata: Record<string, string> | null): BatchOutcome {
    for (const [index, rule] of this.plan.batches.entries()) {
      if (!batchRuleMatches(rule, nth, metadata)) continue;
      const fired = this.batchFired.get(index) ?? 0;
      if (rule.times !== undefined && fired >= rule.times) continue;
      this.batchFired.set(index, fired + 1);
      if (rule.outcome === 'token_limit_exceeded') return { kind: 'token_limit_exceeded' };
      return { kind: rule.outcome, after: rule.after };
    }
    return { kind: 'normal' };
  }

  /** Counts one attempt of `customId` and returns the fault it gets. */
  requestFault(customId: string | undefined): RequestFault {
    if (customId === undefined || this.plan.requests.length === 0) return { kind: 'none' };
    const attempt = (this.attempts.get(customId) ?? 0) + 1;
    this.attempts.set(customId, attempt);
    for (const [index, rule] of this.plan.requests.entries()) {
      if (!this.requestRegexes[index]?.test(customId)) continue;
      if (rule.times !== undefined && attempt > rule.times) continue;
      return rule.kind === 'error' ? { kind: 'error', status: rule.status } : { kind: 'truncate' };
    }
    return { kind: 'none' };
  }
}
