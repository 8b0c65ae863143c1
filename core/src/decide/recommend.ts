import { RecentCache } from '../util/RecentCache.js';
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
      closeCounts: NO_COUNTS,
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

  const asked = target < plan.length - missing.size;
  const before = countsOf(input.closeCounts);
  if (!missing.size && asked) {
    const names = input.workersToClose(target);
    // The common case at scale: the strategy's own (frozen) answer, without a set or a copy.
    const fast = Object.isFrozen(names) ? frozenProposal(names, input.closeCounts, before, waitCount) : undefined;
    if (fast) return fast;
    return merge(waitCount, before, missing, names);
  }
  return merge(waitCount, before, missing, asked ? input.workersToClose(target) : []);
}

/** No counters (after a closing, or nothing to close): shared, and known empty without looking. */
const NO_COUNTS: Readonly<Record<string, number>> = Object.freeze({});

/**
 * Counters for a frozen proposal, read and written without a set: a name proposed twice finds
 * its count already written this tick (a count depends on the name only) and the caller falls
 * back to `merge`. Undefined then.
 */
function frozenProposal(names: string[], record: Readonly<Record<string, number>>, before: Counts, waitCount: number): RecommendOutput | undefined {
  // A list seen before (a strategy that memoizes hands the same one out while nothing changed),
  // already found to hold no name twice: when every name was proposed as often as the others,
  // the answer is the one shared (frozen) for that count, not rebuilt each tick.
  const same = recentSameCount(names, record, before);
  if (same !== undefined) {
    const n = same + 1;
    if (n >= waitCount) return { recommendation: { status: 'down', workers: names }, closeCounts: NO_COUNTS, proposed: names };
    return { recommendation: { status: 'same' }, closeCounts: uniformCounts(names, n), proposed: names };
  }
  // A new list (the common case while workers change): one pass, each count read once.
  const counts: Record<string, number> = {};
  const firmly: string[] = [];
  let first = 0;
  let alike = true;
  // Indexed: for-of over a frozen array takes a slow path in V8.
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const n = (before.get(name) ?? 0) + 1;
    if (i === 0) first = n;
    else if (n !== first) alike = false;
    if (n >= waitCount) firmly.push(name);
    else if (counts[name] === n) return undefined;
    else counts[name] = n;
  }
  if (firmly.length > 1 && new Set(firmly).size !== firmly.length) return undefined;
  if (names.length && alike) {
    if (firmly.length) return { recommendation: { status: 'down', workers: names }, closeCounts: NO_COUNTS, proposed: names };
    return { recommendation: { status: 'same' }, closeCounts: rememberUniform(names, first, counts), proposed: names };
  }
  return {
    recommendation: firmly.length ? { status: 'down', workers: firmly } : { status: 'same' },
    closeCounts: Object.freeze(counts),
    proposed: names,
  };
}

/**
 * Reads a counters record by its own counts only, so a worker named like an `Object.prototype`
 * member (`constructor`) counts like any other.
 */
interface Counts {
  get(name: string): number | undefined;
}

function countsOf(record: Readonly<Record<string, number>>): Counts {
  return {
    // One lookup: `Object.prototype` has no number-valued member, so a number is an own count.
    get: (name) => {
      const v = record[name];
      return typeof v === 'number' ? v : undefined;
    },
  };
}

/** `sameCount` for a recent list, read off the record where it says (undefined for a list not seen lately). */
function recentSameCount(names: readonly string[], record: Readonly<Record<string, number>>, before: Counts): number | undefined {
  const known = uniformOf(record);
  if (known && known.names === names) return known.n;
  if (!recentLists.get(names)) return undefined;
  if (record === NO_COUNTS) return names.length ? 0 : undefined;
  return sameCount(names, before);
}

/** The count every name has before this tick, when they all have the same one (and there is a name). */
function sameCount(names: readonly string[], before: Counts): number | undefined {
  if (names.length === 0) return undefined;
  // No emptiness test first: for-in would list every key of a large record.
  const first = before.get(names[0]!) ?? 0;
  for (let i = 1; i < names.length; i++) if ((before.get(names[i]!) ?? 0) !== first) return undefined;
  return first;
}

/**
 * The few most recent lists found to hold no name twice (only `rememberUniform` adds one), with
 * their uniform counters by count: a strategy memoizing per view hands the same list out for a
 * few ticks.
 */
const recentLists = new RecentCache<readonly string[], Map<number, Record<string, number>>>(8);

/** On a uniform counters record (not enumerable: invisible to JSON, keys and copies): its list and count. */
const UNIFORM = Symbol('uniform');

function uniformOf(record: Readonly<Record<string, number>>): { names: readonly string[]; n: number } | undefined {
  return (record as { [UNIFORM]?: { names: readonly string[]; n: number } })[UNIFORM];
}

/** `{ name: n }` for every name of a list known to hold no name twice, built once per list and count. */
function uniformCounts(names: readonly string[], n: number): Record<string, number> {
  const known = recentLists.get(names)?.get(n);
  if (known) return known;
  const counts: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) counts[names[i]!] = n;
  return rememberUniform(names, n, counts);
}

/** Keeps `counts` (every name of `names` at `n`, no name twice) as the shared answer for that list and count. */
function rememberUniform(names: readonly string[], n: number, counts: Record<string, number>): Record<string, number> {
  let byCount = recentLists.get(names);
  if (!byCount) recentLists.set(names, (byCount = new Map()));
  Object.defineProperty(counts, UNIFORM, { value: { names, n } });
  Object.freeze(counts);
  byCount.set(n, counts);
  return counts;
}

/**
 * Every proposal once, the missing ones first. Thousands of names may pass here per tick, so no
 * set is built for them: a repeated name finds its count already written this tick (a count
 * depends on the name only), and only names closed firmly are remembered in a set.
 */
function merge(waitCount: number, before: Counts, missing: ReadonlySet<string>, names: readonly string[]): RecommendOutput {
  const counts: Record<string, number> = {};
  const firmly: string[] = [];
  const proposed: string[] = [];
  let closing: Set<string> | undefined;
  const take = (name: string): void => {
    const n = (before.get(name) ?? 0) + 1;
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
  for (let i = 0; i < names.length; i++) if (!missing.has(names[i]!)) take(names[i]!);
  return {
    recommendation: firmly.length ? { status: 'down', workers: firmly } : { status: 'same' },
    closeCounts: Object.freeze(counts),
    proposed,
  };
}
