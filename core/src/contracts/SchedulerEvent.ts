import type { SchedulerSnapshot } from './SchedulerSnapshot.js';
import type { WorkerInfo, WorkerStatus } from './WorkerInfo.js';

/** Task states the state store distinguishes (a subset of Dask's). */
export type TaskState =
  | 'waiting'
  | 'queued'
  | 'unrunnable'
  | 'processing'
  | 'memory'
  | 'erred'
  | 'released';

/** Full state from a polling adapter: replaces everything the store knew. */
export interface SnapshotEvent {
  type: 'snapshot';
  snapshot: SchedulerSnapshot;
}

/** A worker connected. `processing` and `longRunning` start empty; tasks arrive as task events. */
export interface WorkerAddedEvent {
  type: 'worker.added';
  worker: Omit<WorkerInfo, 'processing' | 'longRunning'> & Partial<Pick<WorkerInfo, 'processing' | 'longRunning'>>;
}

export interface WorkerUpdatedEvent {
  type: 'worker.updated';
  name: string;
  nbytes?: number;
  memoryLimit?: number;
  nthreads?: number;
  status?: WorkerStatus;
  labels?: Record<string, string>;
}

export interface WorkerRemovedEvent {
  type: 'worker.removed';
  name: string;
}

/**
 * A task entered a state. `prefix` is required the first time a key is seen. `worker` is required
 * for `processing`. `duration` (seconds) on a transition to `memory` is the compute time and
 * feeds the prefix's duration average. `resources`, like `prefix`, comes with the first event.
 */
export interface TaskTransitionEvent {
  type: 'task.transition';
  key: string;
  prefix?: string;
  to: TaskState;
  worker?: string;
  duration?: number;
  /**
   * Resources one run of the task needs (Dask's resource restrictions, `{ GPU: 1 }`); given with
   * the first event of a key, kept for its later ones.
   */
  resources?: Record<string, number>;
}

/** A heartbeat saw a task of `prefix` executing for `elapsed` seconds. */
export interface TaskExecutingEvent {
  type: 'task.executing';
  prefix: string;
  elapsed: number;
}

/** A processing task seceded (became long-running); `computeDuration` feeds the duration average. */
export interface TaskSecededEvent {
  type: 'task.seceded';
  key: string;
  computeDuration?: number;
}

/**
 * The adapter lost or regained its scheduler. While disconnected the store's state is stale, and
 * the adaptive loop refuses to scale down.
 */
export interface ConnectionEvent {
  type: 'connection';
  connected: boolean;
  reason?: string;
}

export type SchedulerEvent =
  | SnapshotEvent
  | WorkerAddedEvent
  | WorkerUpdatedEvent
  | WorkerRemovedEvent
  | TaskTransitionEvent
  | TaskExecutingEvent
  | TaskSecededEvent
  | ConnectionEvent;
