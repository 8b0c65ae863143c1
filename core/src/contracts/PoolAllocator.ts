import type { Explanation } from './ScalingHeuristic.js';

/** Why a pool may not grow now: it ran out of capacity (start failures, a pending deadline, quota). */
export interface PoolCapacityLimit {
  /** Clock seconds at which starts are tried again. */
  until: number;
  reason: string;
  /** Consecutive capacity failures. */
  failures: number;
}

/** One pool as the allocation step sees it, this tick. */
export interface PoolView {
  name: string;
  /** Its position in `pools:` (ties are broken by it). */
  index: number;
  /** Bounds for this tick: `minimum`/`maximum` with its cron schedule applied (0 in manual mode). */
  minimum: number;
  maximum: number;
  /** Relative price per worker-hour. */
  cost: number;
  /** Preference between pools of equal cost: higher first (default 0). */
  priority: number;
  /** What one worker offers (Dask worker resources); empty for a pool of plain workers. */
  resources: Readonly<Record<string, number>>;
  labels: Readonly<Record<string, string>>;
  /** Workers in its plan now. */
  current: number;
  /** Set while its backend is out of capacity: the pool keeps what it has and must not grow. */
  capacityLimited?: PoolCapacityLimit;
}

/** What the allocation step is asked, once per tick. */
export interface AllocationRequest {
  /** Clock seconds. */
  time: number;
  /** Workers the cluster wants in all (the heuristic's target within the cluster's bounds and rails). */
  target: number;
  /** The cluster's maximum (`adaptive.maximum`, its schedule applied): the sum of the pools never exceeds it. */
  maximum: number;
  /** Units of each resource the work needs now (`{ GPU: 3 }`); empty when no task needs one. */
  demand: Readonly<Record<string, number>>;
  /** Every pool, in config order. */
  pools: readonly PoolView[];
}

/** One pool's share: what was asked of it, what it gets, why. */
export interface PoolShare {
  pool: string;
  /** Workers the demand asked of it (its floor, a resource's demand, the spill-over that reached it). */
  wanted: number;
  /** Workers it gets: its allocation. */
  allowed: number;
  /** In words: `cheapest pool with room`, `skipped: capacity-limited until 12:03:10 after 3 failed starts`. */
  reason: string;
}

export interface AllocationResult {
  /** One share per pool, each pool once, in the order the allocation considered them. */
  pools: PoolShare[];
  /** Anything else worth recording (demand no pool can serve, ...). */
  explanation?: Explanation;
}

/**
 * Spreads the cluster's target over its pools (the `allocation` plugin kind; default
 * `cheapest-first`). Inside each pool, Dask's rules then pick the workers.
 *
 * Guarantees expected from an implementation (checked by `describeAllocation` in
 * `@ebbtide/core/testing`): pure, synchronous and deterministic, the request untouched; one
 * share per pool; each `allowed` a whole number within the pool's floor (`minimum`, or what it
 * has if less while capacity-limited) and its `maximum`; a capacity-limited pool never above
 * what it has; the sum never above `maximum` (nor below the sum of the floors); a pool that
 * offers resources never above its floor unless some resource it offers is in demand, when any
 * pool offers none (a GPU pool is not grown for CPU-only work); and, with no resource demand, the
 * sum is the target whenever the pools' bounds allow it.
 *
 * @example
 * ```ts
 * // Plain pools (no resources, no capacity limits) filled in config order.
 * const inOrder: PoolAllocator = {
 *   allocate(r) {
 *     let left = r.target - r.pools.reduce((n, p) => n + p.minimum, 0);
 *     return { pools: r.pools.map((p) => {
 *       const add = Math.max(0, Math.min(left, p.maximum - p.minimum));
 *       left -= add;
 *       return { pool: p.name, wanted: p.minimum + add, allowed: p.minimum + add, reason: 'in config order' };
 *     }) };
 *   },
 * };
 * ```
 */
export interface PoolAllocator {
  allocate(request: AllocationRequest): AllocationResult;
}
