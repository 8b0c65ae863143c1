import type { SchedulerSnapshot } from './SchedulerSnapshot.js';
import type { WorkerKey } from './WorkerKey.js';

/** Arguments of one workers-to-close query (Dask's `workers_to_close` parameters). */
export interface WorkersToCloseQuery {
  /** Workers wanted after closing; `n` = worker count - target. */
  target?: number;
  /** Number of workers to close (wins over `target`). */
  n?: number;
  /** Never leave fewer than this many workers. */
  minimum?: number;
  /** Keep `memoryRatio` x the stored bytes of memory limit; defaults to 2 when neither n nor target is given. */
  memoryRatio?: number;
  /** Grouping; each worker is its own group when absent. */
  key?: WorkerKey;
}

/**
 * Chooses which workers to close.
 *
 * Guarantees expected from an implementation: pure and synchronous; returns names of workers in
 * the snapshot, in closing order, without duplicates; never returns part of a group.
 */
export interface WorkersToClose {
  select(snapshot: SchedulerSnapshot, query: WorkersToCloseQuery): string[];
}
