import type { WorkerStatus } from '../contracts/WorkerInfo.js';

/**
 * Where a task is in a scheduling model. `lost`: it was in memory and every worker holding the
 * result is gone (with `lostResults: 'keep'`, until the host calls `recompute`). `released`: no
 * longer wanted; the model has forgotten it (a report about one of its runs is stale).
 */
export type ModelTaskStatus = 'queued' | 'processing' | 'memory' | 'erred' | 'lost' | 'released';

/**
 * One task of a `SchedulingModel`. Read-only to hosts: only the model changes it. `data` is the
 * host's own payload (a function and its arguments, a trace entry, ...).
 */
export interface ModelTask<T = unknown, W = unknown> {
  readonly key: string;
  readonly prefix: string;
  readonly status: ModelTaskStatus;
  /** Id of the latest assignment; a report about any other run is stale. 0 before the first. */
  readonly run: number;
  /** The worker it is processing on, while `processing`. */
  readonly worker: ModelWorker<T, W> | undefined;
  /** Time (the host's milliseconds) of the latest assignment. */
  readonly startedAt: number;
  /** Workers holding the result (several once a retirement copied it). */
  readonly holders: ReadonlySet<ModelWorker<T, W>>;
  /** Size of the result, as reported when it was stored. */
  readonly nbytes: number;
  /** What one run needs (Dask resource restrictions, `{ GPU: 1 }`): only workers offering it run it. */
  readonly resources?: Readonly<Record<string, number>>;
  readonly data: T;
}

/** What a worker is, as given when it is added (the static part of its `worker.added` event). */
export interface ModelWorkerIdentity {
  name: string;
  nthreads: number;
  /** Bytes, 0 = none. */
  memoryLimit: number;
  address: string;
  host: string;
  labels: Record<string, string>;
  /** What the worker offers (Dask worker resources, `{ GPU: 1 }`); a run holds its share until it ends. */
  resources?: Record<string, number>;
}

/** One connected worker of a `SchedulingModel`. Read-only to hosts. */
export interface ModelWorker<T = unknown, W = unknown> extends Readonly<ModelWorkerIdentity> {
  readonly status: WorkerStatus;
  /**
   * Runs in flight on it, by run id. A run whose task was released or re-queued since stays here
   * until the worker reports it: its thread is still busy, so it still takes a slot.
   */
  readonly processing: ReadonlyMap<number, ModelTask<T, W>>;
  /** Results it holds, in the order it came to hold them. */
  readonly has: ReadonlySet<ModelTask<T, W>>;
  /** Bytes of the results in `has`. */
  readonly nbytes: number;
  /** Removed from the model (disconnected or retired). */
  readonly gone: boolean;
  readonly data: W;
}
