/** Aggregates for one task prefix (Dask's `key_split` of the task key). */
export interface TaskPrefixInfo {
  /** EWMA (alpha 0.5) of completed compute durations in seconds; -1 = unknown. */
  durationAverage: number;
  /** Longest running time (seconds) seen for a task of this prefix still executing; -1 = none. */
  maxExecTime: number;
  /** Tasks queued on the scheduler, waiting for a free worker slot. */
  queued: number;
  /** Tasks with no valid worker (Dask's `no-worker` state), e.g. on an empty cluster. */
  unrunnable: number;
}
