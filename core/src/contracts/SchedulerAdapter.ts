import type { Observable } from 'rxjs';
import type { SchedulerEvent } from './SchedulerEvent.js';

/** Outcome of retiring one worker. */
export interface RetireOutcome {
  name: string;
  /**
   * `retired`: its unique results were moved (or it had none) and it was told to close.
   * `kept`: it holds data that cannot be moved (no recipient); it keeps running.
   * `unknown`: the scheduler does not know this worker (never arrived or already gone).
   */
  status: 'retired' | 'kept' | 'unknown';
  /** Bytes copied to other workers before closing. */
  movedBytes?: number;
  reason?: string;
}

export interface RetireResult {
  outcomes: RetireOutcome[];
}

/**
 * The connection to a task scheduler: a stream of what happens on it, and graceful retirement.
 *
 * Guarantees expected from an implementation: `events$` is hot and never errors (a lost
 * connection is a `connection` event, followed by a `snapshot` once it is back); `retire` never
 * closes a worker whose unique data could not be moved.
 */
export interface SchedulerAdapter {
  readonly events$: Observable<SchedulerEvent>;
  /** Address clients and workers connect to, when known. */
  readonly address?: string;
  /** Connects (or starts, for an embedded scheduler). Resolves once the first state is known. */
  start(): Promise<void>;
  /** Graceful removal: stop assigning, move unique data, then close. One outcome per name. */
  retire(names: string[]): Promise<RetireResult>;
  close(): Promise<void>;
}
