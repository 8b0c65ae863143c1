import type { RetireOutcome } from '@ebbtide/core';

/** Why Dask keeps a worker it was asked to retire (`RetireWorker` policy found no recipient). */
export const KEPT_REASON = 'holds data that cannot be moved: no other running worker can take its unique results';

export interface RetirementFacts {
  /** Worker names the scheduler knew just before `retire_workers`. */
  known: ReadonlySet<string>;
  /** Names in the `retire_workers` reply: retired (data moved, removed, told to close). */
  retired: ReadonlySet<string>;
  /**
   * Names the scheduler still lists after `retire_workers`, when it was asked (only needed if
   * some known worker was not retired). A known worker that is gone was not retired by us.
   */
  after?: ReadonlySet<string>;
  /** Bytes of results only the worker held, which Dask had to copy before retiring it. */
  uniqueBytes?: ReadonlyMap<string, number>;
  /** Keys of the results only the worker held (what a kept worker would lose if stopped). */
  uniqueKeys?: ReadonlyMap<string, readonly string[]>;
}

/** Keys listed in a kept outcome; the count is always exact. */
const HELD_KEYS_SHOWN = 20;

/**
 * One outcome per requested name (duplicates collapse), in request order.
 *
 * @example
 * classifyRetirement(['a', 'b', 'x'], { known: new Set(['a', 'b']), retired: new Set(['a']) })
 * // a retired, b kept (holds data that cannot be moved), x unknown
 */
export function classifyRetirement(names: readonly string[], facts: RetirementFacts): RetireOutcome[] {
  const out: RetireOutcome[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (facts.retired.has(name)) {
      const moved = facts.uniqueBytes?.get(name);
      out.push({ name, status: 'retired', ...(moved !== undefined ? { movedBytes: moved } : {}) });
    } else if (!facts.known.has(name)) {
      out.push({ name, status: 'unknown', reason: 'the scheduler has no worker of this name' });
    } else if (facts.after && !facts.after.has(name)) {
      out.push({ name, status: 'unknown', reason: 'the worker left the scheduler during retirement' });
    } else {
      const keys = facts.uniqueKeys?.get(name);
      out.push({ name, status: 'kept', reason: KEPT_REASON, ...(keys ? { held: { count: keys.length, keys: keys.slice(0, HELD_KEYS_SHOWN) } } : {}) });
    }
  }
  return out;
}
