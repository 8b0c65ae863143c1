import type { SchedulerSnapshot } from './SchedulerSnapshot.js';
import type { WorkerKey } from './WorkerKey.js';
import type { WorkersToCloseView } from './WorkersToCloseView.js';

/**
 * One workers-to-close query from the core: how many workers should remain, and how workers are
 * grouped. A strategy's own knobs (Dask's `n`, `minimum`, `memory_ratio`) are its plugin's options.
 */
export interface WorkersToCloseQuery {
  /** Workers wanted after closing. */
  target?: number;
  /** Grouping; each worker is its own group when absent. */
  key?: WorkerKey;
}

/**
 * Chooses which workers to close.
 *
 * Guarantees expected from an implementation (checked by `describeWorkersToClose` in
 * `@ebbtide/core/testing`): pure and synchronous; returns names of workers in the snapshot, in
 * closing order, without duplicates; never proposes a worker that runs a long-running task (such
 * workers are no candidates, as in Dask since #7481); never returns part of a group of candidates.
 * It may propose fewer workers than `target` asks for, and, where its own rules say so (Dask's
 * `memory_ratio` OR), more.
 */
export interface WorkersToClose {
  select(snapshot: SchedulerSnapshot, query: WorkersToCloseQuery): string[];
  /**
   * Optional: the same answer from the state store's incremental closing order (see
   * `WorkersToCloseView`). Used instead of `select` when the snapshot carries a view.
   */
  selectFromView?(view: WorkersToCloseView, query: WorkersToCloseQuery): string[];
}
