import type { TaskPrefixInfo } from './TaskPrefixInfo.js';
import type { WorkerInfo } from './WorkerInfo.js';
import type { ClosingOrder } from './WorkersToCloseView.js';

/**
 * Everything a scaling decision reads, frozen at one instant.
 *
 * The same shape is produced by the scheduler adapters, stored by recordings and read by
 * `ebbtide decide`, so a decision seen in production can be replayed offline.
 */
export interface SchedulerSnapshot {
  /** Seconds (the RxJS scheduler's clock, or epoch seconds for saved snapshots). */
  time: number;
  /** Workers in scheduler registration order. */
  workers: WorkerInfo[];
  prefixes: Record<string, TaskPrefixInfo>;
  /**
   * Cluster-wide sums over `workers`, when the producer maintains them incrementally (the state
   * store does). Always equal to what summing `workers` gives; lets a heuristic skip a walk over
   * every worker. Absent in saved snapshots.
   */
  totals?: SnapshotTotals;
  /**
   * Tasks that need a resource (Dask's `resources={'GPU': 1}`), by resource name; absent when no
   * task needs one. Pools that offer a resource are scaled for these (docs/pools.md).
   */
  resources?: Record<string, ResourceTasks>;
  /**
   * The workers in closing order, kept incrementally by the state store (see
   * `WorkersToCloseView`). Only on snapshots the store made, as a non-enumerable property: it is
   * not saved, copied or compared with the snapshot's data.
   */
  readonly closingOrder?: ClosingOrder;
}

/** The tasks that need one resource. */
export interface ResourceTasks {
  /** Tasks needing it that wait for a worker (queued or unrunnable). */
  waiting: number;
  /** Tasks needing it that are processing on a worker. */
  processing: number;
  /** Units of the resource those tasks need (waiting and processing), by task prefix. */
  units: Record<string, number>;
}

/** Sums over a snapshot's workers. */
export interface SnapshotTotals {
  /** Task prefix -> tasks processing on any worker, long-running ones excluded. */
  processing: Record<string, number>;
  /** Tasks on workers, long-running ones included (Dask's Σ len(ws.processing)). */
  workerTasks: number;
  nthreads: number;
  memoryLimit: number;
  nbytes: number;
}

/**
 * A snapshot as saved to a file for `ebbtide decide`: it may carry the cluster's bookkeeping and
 * the hysteresis counters of the previous tick. `plan` and `requested` default to the observed
 * worker names.
 */
export interface SnapshotFile extends SchedulerSnapshot {
  plan?: string[];
  requested?: string[];
  closeCounts?: Record<string, number>;
}
