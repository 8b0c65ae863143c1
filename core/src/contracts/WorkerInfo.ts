/**
 * One worker as the scheduler sees it.
 *
 * Snapshots list workers in scheduler registration order; Dask breaks ties between equally
 * cheap workers by that order, so adapters must preserve it.
 */
export interface WorkerInfo {
  /** Identity chosen by ebbtide when it asked a backend to start the worker. */
  name: string;
  /** Scheduler address, e.g. `tcp://127.0.0.1:40123`. */
  address: string;
  /** Host the worker runs on (used by the `host` worker key). */
  host: string;
  nthreads: number;
  /** Bytes; 0 means "no limit" (and disables Dask's memory rule for this worker). */
  memoryLimit: number;
  /** Bytes of results held by the worker. */
  nbytes: number;
  /** Task prefix -> tasks assigned to this worker, long-running (seceded) ones excluded. */
  processing: Record<string, number>;
  /**
   * Seceded tasks: they count as tasks and make the worker busy and never closable, but add no
   * occupancy (Dask's `ws.processing` holds both kinds; `ws.long_running` the second).
   */
  longRunning: number;
  status: WorkerStatus;
  /** Backend, pool, job or host labels, used by worker keys such as `label:<name>`. */
  labels: Record<string, string>;
  resources?: Record<string, number>;
}

export type WorkerStatus = 'running' | 'paused' | 'closing';

export const WORKER_STATUSES: readonly WorkerStatus[] = ['running', 'paused', 'closing'];

/** Tasks assigned to a worker, long-running ones included (Dask's `len(ws.processing)`). */
export function workerTaskCount(w: WorkerInfo): number {
  let n = w.longRunning;
  for (const prefix in w.processing) n += w.processing[prefix]!;
  return n;
}

/** True when the worker has any task assigned, long-running ones included. */
export function isWorkerBusy(w: WorkerInfo): boolean {
  return workerTaskCount(w) > 0;
}
