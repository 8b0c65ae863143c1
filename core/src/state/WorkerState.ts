import type { WorkerInfo } from '../contracts/WorkerInfo.js';

/** A connected (or, while tasks still point at it, removed) worker as the store keeps it. */
export interface WorkerState {
  info: Omit<WorkerInfo, 'processing' | 'longRunning'>;
  /** Task prefix -> tasks processing here, long-running ones excluded. */
  processing: Map<string, number>;
  /** Sum of the positive counts in `processing` (what a frozen `WorkerInfo.processing` sums to). */
  positive: number;
  longRunning: number;
  /** False once removed: late task events for it are ignored. */
  alive: boolean;
  /** Registration order: larger registered later. */
  seq: number;
  /** Slot in the store's worker table, referenced by the tasks processing here. */
  id: number;
  /** Tracked tasks whose worker this is; a removed worker's slot is reused once none is left. */
  refs: number;
  /** One bit per closing index that has this worker queued for an update. */
  dirty: number;
  /** The worker as the last snapshot showed it; cleared by any change, so unchanged workers cost nothing per tick. */
  cached: WorkerInfo | undefined;
  /** Index in the last worker list the store built. */
  pos: number;
  /** True while queued to be replaced in the next worker list. */
  relist: boolean;
  /** The last poll that listed this worker (see the store's `updateInPlace`). */
  mark: number;
  /** The labels as snapshots show them (frozen), kept until they change. */
  labels: Readonly<Record<string, string>> | undefined;
}

/** True when the worker has a task assigned, long-running ones included (`isWorkerBusy` of its snapshot). */
export function busy(ws: WorkerState): boolean {
  return ws.positive + ws.longRunning > 0;
}
