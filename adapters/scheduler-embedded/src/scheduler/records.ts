import type { ModelTask, ModelTaskStatus, ModelWorker } from '@ebbtide/core';
import type { Connection } from '../protocol/Connection.js';
import type { WireError } from '../protocol/messages.js';

/**
 * Scheduler-side task states (the core model's, without `released`: a released key is unknown).
 * `lost`: it was in memory but every worker holding the result is gone; the spec is kept so a
 * gather can recompute it.
 */
export type TaskStatus = Exclude<ModelTaskStatus, 'released'>;

/** What the embedded scheduler keeps per task beyond the model's state. */
export interface TaskData {
  fn: string;
  args: unknown[];
  error?: WireError;
  /** Clients that submitted the key and have not released it; forgotten when none is left. */
  wantedBy: Set<ClientRecord>;
  /** Called on every status change (gathers waiting for the result). */
  waiters: Set<() => void>;
}

/** What the embedded scheduler keeps per worker beyond the model's state. */
export interface WorkerData {
  conn: Connection;
  pid: number;
  /** Scheduler time (ms) of the last message from it. */
  lastSeen: number;
  /** Bytes the worker itself last reported in a heartbeat (for debugging). */
  reportedNbytes: number;
}

export type TaskRecord = ModelTask<TaskData, WorkerData>;
export type WorkerRecord = ModelWorker<TaskData, WorkerData>;

/** One connected client and the keys it wants. */
export interface ClientRecord {
  id: number;
  conn: Connection;
  wants: Set<string>;
}
