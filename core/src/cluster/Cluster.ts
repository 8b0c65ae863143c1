import type { SchedulerLike, Subscription } from 'rxjs';
import type { BackendWorkerStatus, ResourceBackend, WorkerSpec } from '../contracts/ResourceBackend.js';
import { describeError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/Logger.js';
import { backoffMs } from '../util/backoff.js';

export interface ClusterOptions {
  /** Worker names are `{name}-{counter}`. */
  name: string;
  /** The scheduler address workers connect to (read when a worker is started). */
  schedulerAddress: () => string;
  nthreads: number;
  memoryLimit: number;
  /** Seconds a requested worker may take to connect before it is given up. */
  workerStartTimeout: number;
  /** Seconds a planned worker may be missing from the scheduler before it is stopped and relaunched. */
  lostWorkerTimeout: number;
}

export interface ScaleResult {
  started: string[];
  stopped: string[];
}

interface WorkerTrack {
  requestedAt: number;
  arrived: boolean;
  lostSince?: number;
}

/**
 * Dask's `SpecCluster` bookkeeping over one backend: `plan` (names we intend to have),
 * `requested` (names the backend accepted and has not reported gone) and `observed` (names
 * connected to the scheduler, fed by the adaptive loop).
 *
 * - Names are `{name}-{i}` with Dask's counter rule: the lowest free number at or above the
 *   counter, which only moves up; a name the backend still has alive is skipped too.
 * - Shrinking cancels requested-but-never-arrived workers first, then the newest.
 * - A worker that exits, never arrives within `workerStartTimeout`, or stays lost longer than
 *   `lostWorkerTimeout` leaves `requested`; the next tick's reconcile relaunches it if still
 *   planned, after a capped exponential backoff when workers keep failing.
 */
export class Cluster {
  private readonly planList: string[] = [];
  private readonly requestedSet = new Set<string>();
  private observedSet = new Set<string>();
  private readonly track = new Map<string, WorkerTrack>();
  private readonly alive = new Set<string>();
  private counter = 0;
  private failures = 0;
  private notBefore = 0;
  private readonly sub: Subscription;

  constructor(
    readonly backend: ResourceBackend,
    private readonly options: ClusterOptions,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger = silentLogger,
  ) {
    this.sub = backend.status$.subscribe((list) => this.onBackendStatus(list));
  }

  // Read several times per tick: cached until the next change (a day of ticks at thousands of
  // workers would otherwise spend its time copying these lists).
  private planCache?: readonly string[];
  private requestedCache?: readonly string[];
  private observedList: readonly string[] = [];
  /** Requested workers not yet seen, or seen and since lost: the only ones `observe` must look at. */
  private readonly watch = new Set<string>();

  private changed(): void {
    this.planCache = undefined;
    this.requestedCache = undefined;
  }

  get plan(): readonly string[] {
    return (this.planCache ??= Object.freeze([...this.planList]));
  }
  get requested(): readonly string[] {
    if (!this.requestedCache) {
      const planned = new Set(this.planList);
      this.requestedCache = Object.freeze(
        this.planList.filter((n) => this.requestedSet.has(n)).concat([...this.requestedSet].filter((n) => !planned.has(n))),
      );
    }
    return this.requestedCache;
  }
  get observed(): readonly string[] {
    return this.observedList;
  }

  /** Seconds on the injected clock. */
  private now(): number {
    return this.rx.now() / 1000;
  }

  /** Records which workers the scheduler has now; handles arrivals, lost workers and start timeouts. */
  observe(names: readonly string[]): void {
    if (!sameList(names, this.observedList)) {
      const before = this.observedSet;
      this.observedSet = new Set(names);
      this.observedList = Object.freeze([...names]);
      // A requested worker that left the scheduler must now be watched.
      for (const name of before) if (!this.observedSet.has(name) && this.requestedSet.has(name)) this.watch.add(name);
    }
    if (this.watch.size === 0) return;
    const now = this.now();
    for (const name of [...this.watch]) {
      const t = this.track.get(name);
      if (!t || !this.requestedSet.has(name)) {
        this.watch.delete(name);
        continue;
      }
      if (this.observedSet.has(name)) {
        if (!t.arrived) this.failures = 0;
        t.arrived = true;
        delete t.lostSince;
        this.watch.delete(name);
      } else if (t.arrived) {
        t.lostSince ??= now;
        if (now - t.lostSince >= this.options.lostWorkerTimeout) {
          this.logger.warn({ event: 'worker.lost', worker: name, seconds: now - t.lostSince }, 'worker lost; stopping it so it can be relaunched');
          this.forget(name);
          void this.stopQuietly([name]);
        }
      } else if (now - t.requestedAt >= this.options.workerStartTimeout) {
        this.logger.warn({ event: 'worker.start-timeout', worker: name, seconds: now - t.requestedAt }, 'worker never connected; giving up on it');
        this.forget(name);
        this.removeFromPlan([name]);
        this.noteFailure();
        void this.stopQuietly([name]);
      }
    }
  }

  private forget(name: string): void {
    this.requestedSet.delete(name);
    this.track.delete(name);
    this.watch.delete(name);
    this.changed();
  }

  private noteFailure(): void {
    this.failures++;
    this.notBefore = this.now() + backoffMs(this.failures) / 1000;
  }

  private onBackendStatus(list: BackendWorkerStatus[]): void {
    for (const s of list) {
      if (s.phase === 'exited') {
        this.alive.delete(s.name);
        if (this.requestedSet.has(s.name)) {
          const arrived = this.track.get(s.name)?.arrived ?? false;
          this.forget(s.name);
          if (s.failed || !arrived) {
            this.noteFailure();
            this.logger.error(
              { event: 'worker.failed', worker: s.name, exitCode: s.exitCode, reason: s.reason, retryIn: Math.max(0, this.notBefore - this.now()) },
              'worker exited unexpectedly',
            );
          }
        }
      } else {
        this.alive.add(s.name);
      }
    }
  }

  private newName(planned: ReadonlySet<string>): string {
    const taken = (n: string) => planned.has(n) || this.alive.has(n) || this.requestedSet.has(n);
    let name = `${this.options.name}-${this.counter}`;
    while (taken(name)) {
      this.counter++;
      name = `${this.options.name}-${this.counter}`;
    }
    return name;
  }

  private removeFromPlan(names: readonly string[]): void {
    const drop = new Set(names);
    let j = 0;
    for (const w of this.planList) if (!drop.has(w)) this.planList[j++] = w;
    this.planList.length = j;
    this.changed();
  }

  /** Brings the plan to `n` workers (Dask's `SpecCluster.scale`), then reconciles. */
  async scale(n: number): Promise<ScaleResult> {
    if (this.planList.length > n) {
      // Never-arrived workers go first (newest first), then the newest of the rest.
      let excess = this.planList.length - n;
      const drop = new Set<string>();
      for (let i = this.planList.length - 1; i >= 0 && excess > 0; i--) {
        const w = this.planList[i]!;
        if (!this.observedSet.has(w)) {
          drop.add(w);
          excess--;
        }
      }
      for (let i = this.planList.length - 1; i >= 0 && excess > 0; i--) {
        const w = this.planList[i]!;
        if (!drop.has(w)) {
          drop.add(w);
          excess--;
        }
      }
      this.removeFromPlan([...drop]);
    }
    const planned = new Set(this.planList);
    while (this.planList.length < n) {
      const name = this.newName(planned);
      planned.add(name);
      this.planList.push(name);
    }
    this.changed();
    return this.reconcile();
  }

  /** Removes exactly these workers from the plan, then stops them. */
  async scaleDown(names: readonly string[]): Promise<ScaleResult> {
    this.removeFromPlan(names);
    return this.reconcile();
  }

  /** True while a start would be deferred because workers keep failing. */
  get backingOff(): boolean {
    return this.now() < this.notBefore;
  }

  /**
   * Stops requested workers that are no longer planned and starts planned ones not yet
   * requested (Dask's `_correct_state`). Starts wait while backing off after failures.
   */
  async reconcile(): Promise<ScaleResult> {
    const planned = new Set(this.planList);
    const toStop = [...this.requestedSet].filter((n) => !planned.has(n));
    const toStart = this.backingOff ? [] : this.planList.filter((n) => !this.requestedSet.has(n));
    for (const n of toStop) this.forget(n);
    if (toStop.length) await this.backend.stop(toStop);
    if (toStart.length) {
      const scheduler = this.options.schedulerAddress();
      const specs: WorkerSpec[] = toStart.map((name) => ({ name, scheduler, nthreads: this.options.nthreads, memoryLimit: this.options.memoryLimit }));
      const at = this.now();
      for (const n of toStart) {
        this.requestedSet.add(n);
        this.alive.add(n);
        const arrived = this.observedSet.has(n);
        this.track.set(n, { requestedAt: at, arrived });
        if (!arrived) this.watch.add(n);
      }
      this.changed();
      try {
        await this.backend.start(specs);
      } catch (e) {
        for (const n of toStart) {
          this.forget(n);
          this.alive.delete(n);
        }
        this.noteFailure();
        throw e;
      }
    }
    return { started: toStart, stopped: toStop };
  }

  private async stopQuietly(names: string[]): Promise<void> {
    try {
      await this.backend.stop(names);
    } catch (e) {
      this.logger.error({ event: 'worker.stop-failed', workers: names, error: describeError(e) }, 'stop failed');
    }
  }

  /** Stops every requested worker and detaches from the backend. */
  async close(): Promise<void> {
    this.planList.length = 0;
    this.changed();
    try {
      await this.reconcile();
    } finally {
      this.sub.unsubscribe();
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
