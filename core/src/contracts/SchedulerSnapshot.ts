import type { TaskPrefixInfo } from './TaskPrefixInfo.js';
import type { WorkerInfo } from './WorkerInfo.js';

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
