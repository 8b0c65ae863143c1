import type { Recommendation } from './Recommendation.js';

export interface RecommendInput {
  /** The clamped target. */
  target: number;
  /** Names we intend to have, in creation order (only their number is read). */
  plan: { readonly length: number };
  /** Names the backend accepted. */
  requested: readonly string[];
  /** Names connected to the scheduler (read when `isObserved` is absent). */
  observed?: readonly string[];
  /** Whether a name is connected, when the caller can answer without a list (the state store's view). */
  isObserved?: (name: string) => boolean;
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

  // Requested but never arrived: few, kept in a set to drop them from the strategy's list.
  const missing = new Set<string>();
  const surplus = plan.length - target;
  if (requested.length) {
    let isObserved = input.isObserved;
    if (!isObserved) {
      const observedSet = new Set(observed);
      isObserved = (name) => observedSet.has(name);
    }
    for (const name of requested) {
      if (missing.size >= surplus) break;
      if (!isObserved(name)) missing.add(name);
    }
  }

  // Every proposal once, the missing ones first. Thousands of names may pass here per tick, so no
  // set is built for them: a repeated name finds its count already written this tick (a count
  // depends on the name only), and only names closed firmly are remembered in a set.
  const counts: Record<string, number> = {};
  const firmly: string[] = [];
  const proposed: string[] = [];
  let closing: Set<string> | undefined;
  const take = (name: string): void => {
    const n = (input.closeCounts[name] ?? 0) + 1;
    if (n >= waitCount) {
      if (closing?.has(name)) return;
      (closing ??= new Set()).add(name);
      firmly.push(name);
    } else {
      if (counts[name] === n) return;
      counts[name] = n;
    }
    proposed.push(name);
  };
  for (const name of missing) take(name);
  if (target < plan.length - missing.size) {
    const names = input.workersToClose(target);
    if (missing.size) {
      for (const name of names) if (!missing.has(name)) take(name);
    } else for (const name of names) take(name);
  }
  return {
    recommendation: firmly.length ? { status: 'down', workers: firmly } : { status: 'same' },
    closeCounts: counts,
    proposed,
  };
}
