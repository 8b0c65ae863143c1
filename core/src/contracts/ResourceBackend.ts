import type { Observable } from 'rxjs';

/** What the core asks a backend to start. */
export interface WorkerSpec {
  /** Chosen by the core; becomes the scheduler-side worker name. */
  name: string;
  /** Scheduler address the worker must connect to. */
  scheduler: string;
  nthreads: number;
  /** Bytes, 0 = none. */
  memoryLimit: number;
}

export type BackendWorkerPhase = 'pending' | 'running' | 'stopping' | 'exited';

/** The backend's own view of one worker. */
export interface BackendWorkerStatus {
  name: string;
  phase: BackendWorkerPhase;
  /** Set when `phase` is `exited`: whether the exit was unexpected. */
  failed?: boolean;
  exitCode?: number | null;
  reason?: string;
}

/**
 * A resource manager that starts and stops workers by name.
 *
 * Guarantees expected from an implementation: `start` resolves once every spec is accepted (not
 * once workers are running); `stop` of an unknown or already-gone name is not an error; `close`
 * stops every worker this backend started; `status$` replays the current view to new subscribers.
 */
export interface ResourceBackend {
  start(specs: WorkerSpec[]): Promise<void>;
  stop(names: string[]): Promise<void>;
  readonly status$: Observable<BackendWorkerStatus[]>;
  close(): Promise<void>;
}
