import type { WorkerStatus } from '@ebbtide/core';
import type { Connection } from '../protocol/Connection.js';
import type { WireError } from '../protocol/messages.js';

/**
 * Scheduler-side task states. `lost`: it was in memory but every worker holding the result is
 * gone; the spec is kept so a gather can recompute it.
 */
export type TaskStatus = 'queued' | 'processing' | 'memory' | 'erred' | 'lost';

/** One submitted key, kept until every client that wants it has released it. */
export interface TaskRecord {
  key: string;
  prefix: string;
  fn: string;
  args: unknown[];
  status: TaskStatus;
  /** Id of the latest assignment; a report about any other run is stale. */
  run: number;
  /** Where it is processing. */
  worker?: WorkerRecord;
  /** Workers holding the result (several after a retirement copied it). */
  holders: Set<WorkerRecord>;
  /** Size of the result's JSON. */
  nbytes: number;
  error?: WireError;
  wantedBy: Set<ClientRecord>;
  /** Called on every status change (gathers waiting for the result). */
  waiters: Set<() => void>;
}

/** One connected worker. */
export interface WorkerRecord {
  name: string;
  conn: Connection;
  nthreads: number;
  memoryLimit: number;
  labels: Record<string, string>;
  pid: number;
  status: WorkerStatus;
  /**
   * Runs in flight on it, by run id. Includes runs whose task was released or re-queued since:
   * their thread is still busy, so they still take a slot until the worker reports them.
   */
  processing: Map<number, string>;
  /** Keys whose result it holds. */
  has: Set<string>;
  /** Bytes of the results in `has`, as reported when each was stored. */
  nbytes: number;
  /** Scheduler time (ms) of the last message from it. */
  lastSeen: number;
  /** Bytes the worker itself last reported in a heartbeat (for debugging). */
  reportedNbytes: number;
  gone: boolean;
}

/** One connected client and the keys it wants. */
export interface ClientRecord {
  id: number;
  conn: Connection;
  wants: Set<string>;
}
