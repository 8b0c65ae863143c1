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
  /**
   * Extra environment the worker must get (the scheduler adapter's `workerEnv`, e.g. an embedded
   * scheduler's `EBBTIDE_TOKEN`). Backends add it to the worker's own environment.
   */
  env?: Record<string, string>;
  /**
   * The worker's pool (pools only): what one worker offers (Dask worker resources, `{ GPU: 1 }`)
   * and its labels. The core also puts them in `env` (`EBBTIDE_WORKER_RESOURCES`,
   * `EBBTIDE_WORKER_LABELS`, `DASK_DISTRIBUTED__WORKER__RESOURCES__<NAME>`), so a backend that
   * passes `env` on needs nothing more; one that can ask its resource manager for them (a GPU
   * request) may read them here.
   */
  pool?: { name: string; resources: Record<string, number>; labels: Record<string, string> };
}

export type BackendWorkerPhase = 'pending' | 'running' | 'stopping' | 'exited';

/** The backend's own view of one worker. */
export interface BackendWorkerStatus {
  name: string;
  phase: BackendWorkerPhase;
  /** Set when `phase` is `exited`: whether the exit was unexpected. */
  failed?: boolean;
  exitCode?: number | null;
  /** Human text: `OOMKilled`, `pending past its 5m deadline: Unschedulable …`, `stopped (exit code 0)`. */
  reason?: string;
  /**
   * With `failed`: the worker never got resources (unschedulable, quota, queue full, no offer
   * within the pending deadline). The core then treats the backend as capacity-limited: it caps
   * the target at what exists and retries after a backoff, instead of asking again at once.
   */
  capacity?: boolean;
}

/** Which cluster a backend adopts: workers of cluster `c` are named `c-…`. */
export interface AdoptOptions {
  cluster: string;
  /**
   * The scheduler address the cluster's workers connect to. A backend whose resources are not
   * namespaced by the scheduler (local processes) keys its state by cluster and scheduler, so
   * two ebbtides of one name on different schedulers are different clusters.
   */
  scheduler?: string;
}

export interface StopOptions {
  /**
   * The scheduler already retired these workers and told them to close: they are exiting on
   * their own. Give them up to the grace period to do so before signalling — a signal during
   * a worker's own close can wedge it (a Dask 2022.12 worker that gets SIGTERM while closing on
   * the scheduler's request hangs in a cancelled close until SIGKILL).
   */
  retired?: boolean;
}

export interface CloseOptions {
  /**
   * Leave every worker running (`shutdown.workers: keep`), for the next ebbtide of the same
   * cluster to adopt. The lock is released either way.
   */
  keep?: boolean;
}

/**
 * A resource manager that starts and stops workers by name.
 *
 * Guarantees expected from an implementation (checked by `describeResourceBackend` in
 * `@ebbtide/core/testing`):
 * - `start` resolves once every spec is accepted (not once workers are running); starting a name
 *   this backend already has alive is a no-op, never a duplicate. A refusal for lack of capacity
 *   (quota, queue full) rejects with `BACKEND_CAPACITY`.
 * - `stop` of an unknown or already-gone name is not an error; it resolves once the workers are
 *   gone (or the resource manager has accepted their removal).
 * - `status$` replays the current view (every worker the backend knows) to a new subscriber, then
 *   emits changes; an exited worker is reported once, then forgotten so its name may be reused.
 * - `adopt` (once, before any start or stop) takes over the workers of the cluster that already
 *   exist — an earlier ebbtide crashed, or exited with `shutdown.workers: keep` — and returns
 *   them; afterwards `stop` and `status$` cover them like the backend's own. It takes the
 *   backend's lock for the cluster and rejects with `CLUSTER_LOCKED` while another live ebbtide
 *   holds it; a lock left by a process that is gone is taken over.
 * - `close` stops every worker it knows (adopted ones included), or with `keep` leaves them
 *   running, and releases the lock.
 */
export interface ResourceBackend {
  start(specs: WorkerSpec[]): Promise<void>;
  stop(names: string[], options?: StopOptions): Promise<void>;
  readonly status$: Observable<BackendWorkerStatus[]>;
  /**
   * Optional in the type so backends written before adoption existed still load (the cluster
   * then adopts only what the scheduler shows); every built-in backend implements it.
   */
  adopt?(options: AdoptOptions): Promise<BackendWorkerStatus[]>;
  /**
   * The tail of a worker's own output (stdout and stderr, as the resource manager keeps it: a
   * log file, a container's log), at most `lines` lines (default: the backend's choice), for
   * `ebbtide logs --worker NAME` and the control API. Resolves with `''` when the backend has
   * no output for that name (never started, or gone and cleaned up); it must not read anything
   * but that worker's output, whatever the name (it comes from an HTTP request). Optional: a
   * backend that cannot reach its workers' output leaves it out, and the API answers 501.
   */
  logs?(name: string, lines?: number): Promise<string>;
  close(options?: CloseOptions): Promise<void>;
}
