import type { BackendWorkerStatus, ResourceBackend, WorkerSpec } from '@ebbtide/core';
import { type Observable, type SchedulerLike, Subject, type Subscription, concat, defer, of, timer } from 'rxjs';
import { Random } from '../random/Random.js';
import type { SimulatedScheduler } from './SimulatedScheduler.js';
import { type StartupDelay, drawStartupDelay } from './StartupDelay.js';

export interface SimulatedBackendOptions {
  startupDelay: StartupDelay;
  /** Seed of the startup-delay draws. */
  seed: number;
  /**
   * Most workers it holds at once (a quota, a full node group): a start beyond it is refused
   * the way a resource manager refuses (the worker exits failed with `capacity`), so the core
   * marks the pool capacity-limited. Absent: no limit.
   */
  capacity?: number;
}

interface BackendWorker {
  spec: WorkerSpec;
  status: BackendWorkerStatus;
  /** Virtual ms of the start request and of the exit. */
  requestedAt: number;
  exitedAt?: number;
  connecting?: Subscription;
}

/**
 * A resource backend on virtual time: `start` makes workers `pending`, and after a startup delay
 * (drawn from the seeded generator) each connects to the `SimulatedScheduler` and is `running`;
 * `stop` makes them `stopping`, disconnects them and reports them `exited`. Every call resolves at
 * once; only the startup delay takes (virtual) time.
 *
 * It measures worker-seconds the way a bill does: from the start request to the exit.
 */
export class SimulatedBackend implements ResourceBackend {
  /** The current view first, then each change as a list. */
  readonly status$: Observable<BackendWorkerStatus[]>;
  private readonly changes = new Subject<BackendWorkerStatus[]>();
  private readonly workers = new Map<string, BackendWorker>();
  private readonly random: Random;
  private startedCount = 0;
  private connects = 0;
  private running = 0;
  /** Workers not exited, kept as they start and exit (the simulation asks after every step). */
  private active = 0;
  private peak = 0;
  private refusedCount = 0;
  /** Milliseconds of earlier workers whose name was reused. */
  private reusedMs = 0;

  constructor(
    private readonly scheduler: SimulatedScheduler,
    private readonly options: SimulatedBackendOptions,
    private readonly rx: SchedulerLike,
  ) {
    this.random = new Random(options.seed);
    this.status$ = defer(() => concat(of([...this.workers.values()].map((w) => ({ ...w.status }))), this.changes));
  }

  /** Workers asked to start so far (and accepted). */
  get workersStarted(): number {
    return this.startedCount;
  }

  /** Most workers running (connected) at once. */
  get peakRunning(): number {
    return this.peak;
  }

  /** Starts refused for lack of capacity. */
  get refused(): number {
    return this.refusedCount;
  }

  /**
   * Times a startup timer fired (a worker connected). That work is synchronous, so a driver may
   * skip draining promises after a step that ran nothing else.
   */
  get timerWakes(): number {
    return this.connects;
  }

  /** Workers not yet exited (pending, running or stopping). */
  get activeCount(): number {
    return this.active;
  }

  /** Sum over workers of the time from the start request to the exit (or `now`, if alive). */
  workerSeconds(): number {
    const now = this.rx.now();
    let ms = this.reusedMs;
    for (const w of this.workers.values()) ms += (w.exitedAt ?? now) - w.requestedAt;
    return ms / 1000;
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    const now = this.rx.now();
    const pending: BackendWorkerStatus[] = [];
    const refused: BackendWorkerStatus[] = [];
    let live = this.activeCount;
    for (const spec of specs) {
      const old = this.workers.get(spec.name);
      if (old && old.status.phase !== 'exited') continue;
      if (this.options.capacity !== undefined && live >= this.options.capacity) {
        this.refusedCount++;
        refused.push({ name: spec.name, phase: 'exited', failed: true, capacity: true, exitCode: null, reason: `no capacity: at most ${this.options.capacity} worker(s)` });
        continue;
      }
      live++;
      this.active++;
      const w: BackendWorker = { spec, status: { name: spec.name, phase: 'pending' }, requestedAt: now };
      // A name used again (after an exit) keeps the earlier worker's seconds.
      if (old) this.reusedMs += (old.exitedAt ?? now) - old.requestedAt;
      this.workers.set(spec.name, w);
      this.startedCount++;
      pending.push({ ...w.status });
      const delayMs = drawStartupDelay(this.options.startupDelay, this.random) * 1000;
      w.connecting = timer(delayMs, this.rx).subscribe(() => {
        w.connecting = undefined;
        this.connects++;
        this.scheduler.connect(spec);
        this.running++;
        this.peak = Math.max(this.peak, this.running);
        this.set(w, { name: spec.name, phase: 'running' });
      });
    }
    if (pending.length) this.changes.next(pending);
    // Reported during the call, as exits with `capacity`: the cluster counts each refused batch
    // as one more capacity failure (its backoff doubles), as a backend's quota error would.
    if (refused.length) this.changes.next(refused);
  }

  async stop(names: string[]): Promise<void> {
    this.end(names, false);
  }

  /**
   * Crashes workers (for tests and fault scenarios): they disconnect without retirement and are
   * reported `exited` with `failed: true`.
   */
  kill(names: string[], reason = 'killed'): void {
    this.end(names, true, reason);
  }

  async close(): Promise<void> {
    this.end(
      [...this.workers.values()].filter((w) => w.status.phase !== 'exited').map((w) => w.spec.name),
      false,
    );
  }

  private end(names: string[], failed: boolean, reason?: string): void {
    const live = names.map((n) => this.workers.get(n)).filter((w): w is BackendWorker => w !== undefined && w.status.phase !== 'exited');
    if (live.length === 0) return;
    this.active -= new Set(live).size;
    for (const w of live) {
      if (w.status.phase === 'running') this.running--;
      w.status = { name: w.spec.name, phase: 'stopping' };
    }
    this.changes.next(live.map((w) => ({ ...w.status })));
    const exited: BackendWorkerStatus[] = [];
    for (const w of live) {
      w.connecting?.unsubscribe();
      w.connecting = undefined;
      this.scheduler.disconnect(w.spec.name);
      w.exitedAt = this.rx.now();
      w.status = { name: w.spec.name, phase: 'exited', failed, exitCode: failed ? 1 : 0, ...(reason ? { reason } : {}) };
      exited.push({ ...w.status });
    }
    this.changes.next(exited);
  }

  private set(w: BackendWorker, status: BackendWorkerStatus): void {
    w.status = status;
    this.changes.next([{ ...status }]);
  }
}
