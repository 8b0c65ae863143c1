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

  const counts: Record<string, number> = {};
  const firmly: string[] = [];
  const asked = target < plan.length - missing.size;
  const before = countsOf(input.closeCounts);
  if (!missing.size && asked) {
    const names = input.workersToClose(target);
    if (checkedUnique(names)) {
      // The common case at scale, without a set or a copy: the strategy's own (frozen) answer.
      const same = sameCount(names, input.closeCounts, before);
      if (same !== undefined) {
        // Every name proposed as often as the others: the same answer as the last time this list
        // was proposed this often, shared (frozen) instead of rebuilt each tick.
        const n = same + 1;
        if (n >= waitCount) return { recommendation: { status: 'down', workers: names }, closeCounts: {}, proposed: names };
        return { recommendation: { status: 'same' }, closeCounts: uniformCounts(names, n), proposed: names };
      }
      // Indexed: for-of over a frozen array takes a slow path in V8.
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const n = (before.get(name) ?? 0) + 1;
        if (n >= waitCount) firmly.push(name);
        else counts[name] = n;
      }
      return {
        recommendation: firmly.length ? { status: 'down', workers: firmly } : { status: 'same' },
        closeCounts: Object.freeze(counts),
        proposed: names,
      };
    }
    return merge(waitCount, before, missing, names, counts, firmly);
  }
  return merge(waitCount, before, missing, asked ? input.workersToClose(target) : [], counts, firmly);
}

/** Frozen answers already seen to hold no name twice (a strategy that memoizes hands the same one out again). */
const unique = new WeakSet<readonly string[]>();

function checkedUnique(names: readonly string[]): boolean {
  if (!Object.isFrozen(names)) return false;
  if (unique.has(names)) return true;
  if (new Set(names).size !== names.length) return false;
  unique.add(names);
  return true;
}

/**
 * Reads a counters record by its own counts only, so a worker named like an `Object.prototype`
 * member (`constructor`) counts like any other.
 */
interface Counts {
  get(name: string): number | undefined;
  readonly empty: boolean;
}

function countsOf(record: Readonly<Record<string, number>>): Counts {
  return {
    // One lookup: `Object.prototype` has no number-valued member, so a number is an own count.
    get: (name) => {
      const v = record[name];
      return typeof v === 'number' ? v : undefined;
    },
    // Asked only when needed: for-in lists every key of a large record first.
    get empty() {
      for (const _ in record) return false;
      return true;
    },
  };
}

/** The count every name has before this tick, when they all have the same one (and there is a name). */
function sameCount(names: readonly string[], record: Readonly<Record<string, number>>, before: Counts): number | undefined {
  if (names.length === 0) return undefined;
  const known = uniformOf.get(record);
  if (known && known.names === names) return known.n;
  if (before.empty) return 0;
  const first = before.get(names[0]!) ?? 0;
  for (let i = 1; i < names.length; i++) if ((before.get(names[i]!) ?? 0) !== first) return undefined;
  return first;
}

/** `{ name: n }` for every name of a frozen list, built once per list and count. */
const uniform = new WeakMap<readonly string[], Map<number, Record<string, number>>>();
const uniformOf = new WeakMap<object, { names: readonly string[]; n: number }>();

function uniformCounts(names: readonly string[], n: number): Record<string, number> {
  let byCount = uniform.get(names);
  if (!byCount) uniform.set(names, (byCount = new Map()));
  let counts = byCount.get(n);
  if (!counts) {
    counts = {};
    for (let i = 0; i < names.length; i++) counts[names[i]!] = n;
    byCount.set(n, Object.freeze(counts));
    uniformOf.set(counts, { names, n });
  }
  return counts;
}

/**
 * Every proposal once, the missing ones first. Thousands of names may pass here per tick, so no
 * set is built for them: a repeated name finds its count already written this tick (a count
 * depends on the name only), and only names closed firmly are remembered in a set.
 */
function merge(waitCount: number, before: Counts, missing: ReadonlySet<string>, names: readonly string[], counts: Record<string, number>, firmly: string[]): RecommendOutput {
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
