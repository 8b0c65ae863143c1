import type { Recommendation } from './Recommendation.js';

export interface RecommendInput {
  /** The clamped target. */
  target: number;
  /** Names we intend to have, in creation order. */
  plan: readonly string[];
  /** Names the backend accepted. */
  requested: readonly string[];
  /** Names connected to the scheduler. */
  observed: readonly string[];
  /** Consecutive proposals per worker before this tick. */
  closeCounts: Readonly<Record<string, number>>;
  waitCount: number;
  /** The workers-to-close strategy for `target` (called only when needed). */
  workersToClose: (target: number) => string[];
}

export interface RecommendOutput {
  recommendation: Recommendation;
  /** Counters after this tick (only positive counts). */
  closeCounts: Record<string, number>;
  /** Every worker proposed for closing this tick, not-yet-arrived ones first. */
  proposed: string[];
}

/**
 * Dask's `AdaptiveCore.recommendations`: compare the target with the plan; when shrinking,
 * propose requested-but-never-arrived workers first, then ask the strategy; a worker is closed
 * only once it has been proposed `waitCount` ticks in a row.
 *
 * Pure: counters come in and go out.
 */
export function recommend(input: RecommendInput): RecommendOutput {
  const { target, plan, requested, observed, waitCount } = input;
  if (target >= plan.length) {
    return {
      recommendation: target === plan.length ? { status: 'same' } : { status: 'up', n: target },
      closeCounts: {},
      proposed: [],
    };
  }

  const observedSet = new Set(observed);
  const toClose = new Set<string>();
  const surplus = plan.length - target;
  for (const name of requested) {
    if (toClose.size >= surplus) break;
    if (!observedSet.has(name)) toClose.add(name);
  }
  if (target < plan.length - toClose.size) {
    for (const name of input.workersToClose(target)) toClose.add(name);
  }

  const counts: Record<string, number> = {};
  const firmly: string[] = [];
  for (const name of toClose) {
    const n = (input.closeCounts[name] ?? 0) + 1;
    if (n >= waitCount) firmly.push(name);
    else counts[name] = n;
  }
  return {
    recommendation: firmly.length ? { status: 'down', workers: firmly } : { status: 'same' },
    closeCounts: counts,
    proposed: [...toClose],
  };
}
