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
  /**
   * `kept` only, when the scheduler can tell: the results only this worker holds (what stopping
   * it would lose) — their number, and at most 20 of their keys.
   */
  held?: { count: number; keys: string[] };
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
  /**
   * Environment every worker must be started with to be let in (e.g. `EBBTIDE_TOKEN` for an
   * embedded scheduler with a token); read when a worker is started.
   */
  readonly workerEnv?: Record<string, string>;
  /**
   * Marks the scheduler as driven by this ebbtide for cluster `cluster`, so a second ebbtide of
   * the same cluster on the same scheduler refuses to start. Rejects with `CLUSTER_LOCKED`
   * naming the holder while another live ebbtide holds it; a mark left by a process that died
   * expires and is taken over. Released by `close`. Optional: schedulers that live inside the
   * ebbtide process (the embedded one) need none.
   */
  claim?(cluster: string): Promise<void>;
  /** Connects (or starts, for an embedded scheduler). Resolves once the first state is known. */
  start(): Promise<void>;
  /** Graceful removal: stop assigning, move unique data, then close. One outcome per name. */
  retire(names: string[]): Promise<RetireResult>;
  close(): Promise<void>;
}
