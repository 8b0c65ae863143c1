import type { GuardEffect } from '../DecisionRecord.js';
import type { DirectionRules, ScalingPolicy, TimedValue } from './GuardRails.js';

/** Workers added (positive changes) and removed (negative changes, as a positive number) in the last `period` seconds. */
function changesIn(period: number, time: number, changes: readonly TimedValue[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const c of changes) {
    if (!(c.time > time - period)) continue;
    if (c.value > 0) added += c.value;
    else removed -= c.value;
  }
  return { added, removed };
}

/** `4 workers per 15s`, `10% per 60s`. */
export function describePolicy(p: ScalingPolicy): string {
  return `${p.value}${p.type === 'percent' ? '%' : p.value === 1 ? ' worker' : ' workers'} per ${p.period}s`;
}

/** The policy's limit: how many workers there may be after this tick. */
function policyLimit(p: ScalingPolicy, direction: 'up' | 'down', current: number, time: number, changes: readonly TimedValue[]): number {
  const { added, removed } = changesIn(p.period, time, changes);
  // What the count was when the period began: the changes made since are undone.
  const periodStart = current - added + removed;
  if (direction === 'up') return p.type === 'workers' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
  return p.type === 'workers' ? periodStart - p.value : Math.floor(periodStart * (1 - p.value / 100));
}

export interface RateLimitResult {
  value: number;
  effect?: GuardEffect;
}

/**
 * The HPA's rate limit (`convertDesiredReplicasWithBehaviorRate` with
 * `calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`): each policy
 * allows a count relative to the count at the start of its period (the changes made within the
 * period are undone first); `selectPolicy: max` takes the policy allowing the most change, `min`
 * the least, `disabled` allows none. Percentages round towards more workers (up: `ceil`, so a
 * small cluster can still grow; down: the remaining count is truncated, as the HPA does: 10% of
 * 72 removes 8). A limit never moves the count the other way. No policies: no limit.
 *
 * Pure: `changes` are the changes made so far (positive up, negative down), with their times.
 */
export function rateLimit(
  desired: number,
  current: number,
  time: number,
  rules: { scaleUp: DirectionRules; scaleDown: DirectionRules },
  changes: readonly TimedValue[],
  pool?: string,
): RateLimitResult {
  if (desired === current) return { value: desired };
  const direction = desired > current ? 'up' : 'down';
  const r = direction === 'up' ? rules.scaleUp : rules.scaleDown;
  const key = direction === 'up' ? 'scaleUp' : 'scaleDown';
  const where = pool ? { pool } : {};
  if (r.selectPolicy === 'disabled') {
    return { value: current, effect: { guard: `${key}.selectPolicy`, effect: `held by ${key}.selectPolicy: disabled`, ...where, from: desired, to: current } };
  }
  if (r.policies.length === 0) return { value: desired };
  let chosen: ScalingPolicy | undefined;
  let limit = 0;
  for (const p of r.policies) {
    const l = policyLimit(p, direction, current, time, changes);
    // Up: max allows the highest count, min the lowest; down the other way round.
    const better = chosen === undefined || ((direction === 'up') === (r.selectPolicy === 'max') ? l > limit : l < limit);
    if (better) {
      chosen = p;
      limit = l;
    }
  }
  // A period's changes may already exceed what a policy allows: then hold, never reverse.
  if (direction === 'up') limit = Math.max(limit, current);
  else limit = Math.min(limit, current);
  const capped = direction === 'up' ? desired > limit : desired < limit;
  if (!capped) return { value: desired };
  const which = r.policies.length > 1 ? ` (selectPolicy ${r.selectPolicy})` : '';
  return {
    value: limit,
    effect: {
      guard: `${key}.policies`,
      effect: `${limit === current ? 'held' : 'capped'} by ${key}.policies: ${describePolicy(chosen!)}${which}`,
      ...where,
      from: desired,
      to: limit,
    },
  };
}
