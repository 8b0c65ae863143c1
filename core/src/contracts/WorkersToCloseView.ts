import type { WorkerKey } from './WorkerKey.js';

/**
 * One group of candidate workers (workers with the same `WorkerKey`, none of them running a
 * long-running task), as a `WorkersToCloseView` hands it out. Read it during the walk only: the
 * object belongs to the store and changes with it.
 */
export interface ClosingGroup {
  /** Member names in scheduler registration order. */
  readonly workers: readonly string[];
  /** Number of members. */
  readonly size: number;
  /** True when no member has a task assigned. */
  readonly idle: boolean;
  /** Bytes held by the members together. */
  readonly nbytes: number;
  /** Memory limit of the members together. */
  readonly memoryLimit: number;
}

/**
 * The workers of one snapshot in Dask's closing order, kept incrementally by the state store:
 * candidate groups idle first, then those holding the fewest bytes, ties broken by registration
 * (the group whose first member registered last comes first) — the order `workers_to_close`
 * pops groups in. A strategy walks it and stops as soon as its rule stops, so a decision costs
 * O(k log W) for k closed workers instead of a sort of every worker.
 *
 * Valid only while the order it shows is unchanged (a walk over a stale view throws); decisions
 * are synchronous, so a strategy never sees it change. The store hands out the same view object
 * while the order, the sums and the connected workers are unchanged, so a strategy may memoize
 * its answer per view object (and share it: answers shared so must not be modified).
 */
export interface WorkersToCloseView {
  /** Connected workers, long-running ones included (Dask's `len(self.workers)`). */
  readonly workerCount: number;
  /** Connected workers without any task, long-running ones included. */
  readonly idleWorkers: number;
  /** Memory limit summed over candidate workers (those without a long-running task). */
  readonly candidateMemoryLimit: number;
  /** Bytes held, summed over candidate workers. */
  readonly candidateBytes: number;
  /** True when a worker of this name is connected. */
  has(name: string): boolean;
  /** Visits the candidate groups in closing order until `visit` returns false. */
  walk(visit: (group: ClosingGroup) => boolean): void;
}

/**
 * How a store-built snapshot offers its closing order: the view for a grouping (each worker is
 * its own group when `key` is absent), or undefined when the store has moved on since the
 * snapshot. Snapshots read from files, copies and adapters' own snapshots have none.
 */
export type ClosingOrder = (key?: WorkerKey) => WorkersToCloseView | undefined;

