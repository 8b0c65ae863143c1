import { type Observable, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import type { BackendWorkerStatus, ResourceBackend, WorkerSpec } from '../contracts/ResourceBackend.js';
import { describeError, isEbbtideError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/Logger.js';
import { backoffMs } from '../util/backoff.js';

export interface ClusterOptions {
  /** Worker names are `{name}-{counter}`. */
  name: string;
  /** The scheduler address workers connect to (read when a worker is started). */
  schedulerAddress: () => string;
  /** Environment every worker needs (the scheduler adapter's `workerEnv`), read when one is started. */
  workerEnv?: () => Record<string, string> | undefined;
  nthreads: number;
  memoryLimit: number;
  /** Seconds a requested worker may take to connect before it is given up. */
  workerStartTimeout: number;
  /** Seconds a planned worker may be missing from the scheduler before it is stopped and relaunched. */
  lostWorkerTimeout: number;
  /**
   * The pool this cluster's workers form (`pools:`): named in each `WorkerSpec`, its resources
   * and labels also given to the workers as environment (see `poolWorkerEnv`). Absent: the
   * single pool `default`.
   */
  pool?: { name: string; resources: Record<string, number>; labels: Record<string, string>; env: Record<string, string> };
}

export interface ScaleResult {
  started: string[];
  stopped: string[];
}

/** What `adopt` found: workers of this cluster that existed before this process started. */
export interface AdoptionResult {
  /** Every adopted name, in name order. */
  adopted: string[];
  /** Of those, the ones the backend reported (it can stop them). */
  fromBackend: string[];
  /** Of those, the ones connected to the scheduler. */
  fromScheduler: string[];
}

/** Why starts are held back: the backend ran out of capacity (quota, queue, offers). */
export interface CapacityLimit {
  /** Seconds on the injected clock until starts are tried again. */
  until: number;
  reason: string;
  /** Consecutive capacity failures (the backoff doubles with each). */
  failures: number;
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
  /** Names the scheduler retired (told to close) that are still to be stopped. */
  private readonly retired = new Set<string>();
  /** Names the backend reported exited that may still linger in the scheduler's view. */
  private readonly exitedSeen = new Set<string>();
  private counter = 0;
  private failures = 0;
  private notBefore = 0;
  private capacity?: CapacityLimit;
  private capacityFailures = 0;
  private readonly sub: Subscription;

  constructor(
    readonly backend: ResourceBackend,
    private readonly options: ClusterOptions,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger = silentLogger,
  ) {
    this.sub = backend.status$.subscribe({
      next: (list) => this.onBackendStatus(list),
      // The backend can no longer tell what its workers do (it lost its lease, its watch died):
      // the owner decides what that means; this cluster stops acting on a view it cannot trust.
      error: (e: unknown) => {
        this.logger.error({ event: 'backend.status-failed', error: describeError(e) }, "the backend's status stream failed");
        this.failedWith = e;
        this.backendFailure.next(e);
      },
    });
  }

  private readonly backendFailure = new Subject<unknown>();
  /** Emits once if the backend's `status$` errors (e.g. `CLUSTER_LOCKED`: another ebbtide took the lease). */
  readonly backendFailed$: Observable<unknown> = this.backendFailure.asObservable();
  /** Set once the backend's status stream has failed. */
  failedWith?: unknown;

  // Read several times per tick: cached until the next change (a day of ticks at thousands of
  // workers would otherwise spend its time copying these lists).
  private planCache?: readonly string[];
  private requestedCache?: readonly string[];
  private observedList: readonly string[] = [];
  /** The frozen list last observed, as handed in. */
  private observedInput: readonly string[] | undefined;
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

  private readonly ourName = new RegExp(`^${this.options.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);

  /** True for names this cluster gives its workers (`{name}-{counter}`; `{name}-gpu-0` is another cluster's). */
  isOurs(worker: string): boolean {
    return this.ourName.test(worker);
  }

  /** Its pool's name for a worker of this cluster (`default` without pools), else null. */
  poolOf(worker: string): string | null {
    return this.isOurs(worker) ? (this.options.pool?.name ?? 'default') : null;
  }

  /**
   * Takes over the workers of this cluster that already exist, before the first decision: those
   * the backend still has (its `adopt`, which also takes the backend's lock) and those connected
   * to the scheduler under this cluster's names. They join plan and requested as they are, so
   * no new worker gets their names and `maximum` counts them.
   *
   * @param connected names the scheduler shows connected now.
   * @throws EbbtideError `CLUSTER_LOCKED` from the backend.
   */
  async adopt(connected: readonly string[]): Promise<AdoptionResult> {
    const fromBackend = this.backend.adopt
      ? (await this.backend.adopt({ cluster: this.options.name, scheduler: this.options.schedulerAddress() })).filter((s) => s.phase !== 'exited').map((s) => s.name)
      : [];
    const fromScheduler = connected.filter((n) => this.isOurs(n));
    const adopted = [...new Set([...fromBackend, ...fromScheduler])].sort(byCounter);
    for (const name of adopted) this.take(name, fromScheduler.includes(name));
    // New names continue above the adopted ones, as they would have in the process that made them
    // (some resource managers never give a removed name again: YARN's decommissioned instances).
    for (const name of adopted) {
      const n = Number(/-(\d+)$/.exec(name)?.[1]);
      if (this.isOurs(name) && n >= this.counter) this.counter = n + 1;
    }
    if (adopted.length) {
      this.logger.info(
        { event: 'cluster.adopted', workers: adopted, fromBackend: fromBackend.length, fromScheduler: fromScheduler.length },
        `adopted ${adopted.length} existing worker(s)`,
      );
    }
    return { adopted, fromBackend, fromScheduler };
  }

  /** Puts an existing worker into plan and requested (nothing is started for it). */
  private take(name: string, arrived: boolean): void {
    if (!this.planList.includes(name)) this.planList.push(name);
    this.requestedSet.add(name);
    this.alive.add(name);
    this.track.set(name, { requestedAt: this.now(), arrived });
    if (!arrived) this.watch.add(name);
    this.changed();
  }

  /**
   * After the scheduler connection comes back: the plan is rebuilt from what exists — workers
   * the backend still has or the scheduler shows — instead of relaunching a plan made before
   * the outage (on a restarted, empty scheduler that plan means nothing).
   */
  rebuild(): string[] {
    const dropped = this.planList.filter((n) => !this.requestedSet.has(n) && !this.observedSet.has(n));
    if (dropped.length) {
      this.removeFromPlan(dropped);
      this.logger.info({ event: 'cluster.rebuilt', dropped, plan: this.planList.length }, 'plan rebuilt from what the backend and the scheduler report');
    }
    return dropped;
  }

  /** Records which workers the scheduler has now; handles arrivals, lost workers and start timeouts. */
  observe(names: readonly string[]): void {
    // The same frozen list as last time (the state store's, while nobody joined or left): no walk.
    if (names !== this.observedInput && !sameList(names, this.observedList)) {
      const before = this.observedSet;
      this.observedSet = new Set(names);
      this.observedList = Object.freeze([...names]);
      // A requested worker that left the scheduler must now be watched.
      for (const name of before) if (!this.observedSet.has(name) && this.requestedSet.has(name)) this.watch.add(name);
      // A worker of this cluster that connects without being asked for (left by an earlier
      // ebbtide, or started while the backend's view was lost) is adopted, never duplicated.
      for (const name of before) if (!this.observedSet.has(name)) this.exitedSeen.delete(name);
      for (const name of names) {
        // Not one the backend just reported exited: the scheduler may not have noticed yet.
        if (!before.has(name) && this.isOurs(name) && !this.requestedSet.has(name) && !this.exitedSeen.has(name)) {
          this.logger.warn({ event: 'worker.adopted', worker: name }, 'a worker of this cluster connected without being requested; adopting it');
          this.take(name, true);
        }
      }
    }
    this.observedInput = Object.isFrozen(names) ? names : undefined;
    if (this.watch.size === 0) return;
    const now = this.now();
    for (const name of [...this.watch]) {
      const t = this.track.get(name);
      if (!t || !this.requestedSet.has(name)) {
        this.watch.delete(name);
        continue;
      }
      if (this.observedSet.has(name)) {
        if (!t.arrived) {
          // An arrival shows the backend works: forget the failures and end their backoff
          // (a capacity hold stands: one worker fitting says nothing about the next).
          this.failures = 0;
          this.notBefore = this.capacity ? this.capacity.until : 0;
        }
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

  /** Counts a failure and starts its backoff; returns the backoff in seconds. */
  private noteFailure(): number {
    this.failures++;
    const seconds = backoffMs(this.failures) / 1000;
    this.notBefore = this.now() + seconds;
    return seconds;
  }

  /**
   * The backend has no room (quota, full queue, no offer, unschedulable past its deadline): the
   * failed names leave the plan, so the plan is what exists, and no start is tried until the
   * backoff ends.
   */
  private noteCapacity(names: readonly string[], reason: string): void {
    this.capacityFailures++;
    const seconds = backoffMs(this.capacityFailures, 5000, 300_000) / 1000;
    this.capacity = { until: this.now() + seconds, reason, failures: this.capacityFailures };
    this.notBefore = Math.max(this.notBefore, this.capacity.until);
    this.removeFromPlan(names);
    this.logger.warn(
      { event: 'backend.capacity-limited', workers: names, reason, retryIn: seconds },
      'backend is out of capacity; holding starts',
    );
  }

  /** Set while starts are held back because the backend ran out of capacity. */
  get capacityLimit(): CapacityLimit | undefined {
    if (this.capacity && this.now() >= this.capacity.until) this.capacity = undefined;
    return this.capacity;
  }

  private onBackendStatus(list: BackendWorkerStatus[]): void {
    for (const s of list) {
      if (s.phase === 'exited') {
        this.alive.delete(s.name);
        this.exitedSeen.add(s.name);
        if (this.requestedSet.has(s.name)) {
          const arrived = this.track.get(s.name)?.arrived ?? false;
          this.forget(s.name);
          if (s.failed && s.capacity) {
            this.noteCapacity([s.name], s.reason ?? 'no capacity');
          } else if (s.failed || !arrived) {
            const retryIn = this.noteFailure();
            this.logger.error(
              { event: 'worker.failed', worker: s.name, exitCode: s.exitCode, reason: s.reason, retryIn },
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
    // Also a name the scheduler still shows (a worker whose exit it has not noticed yet): Dask
    // refuses a second registration under a connected name.
    const taken = (n: string) => planned.has(n) || this.alive.has(n) || this.requestedSet.has(n) || this.observedSet.has(n);
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

  /**
   * Removes exactly these workers from the plan, then stops them. `retired`: the scheduler has
   * retired them and told them to close, so the backend lets them exit on their own first.
   */
  async scaleDown(names: readonly string[], options: { retired?: boolean } = {}): Promise<ScaleResult> {
    if (options.retired) for (const n of names) this.retired.add(n);
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
    const retired = toStop.filter((n) => this.retired.has(n));
    const plain = toStop.filter((n) => !this.retired.has(n));
    for (const n of retired) this.retired.delete(n);
    await Promise.all([
      retired.length ? this.backend.stop(retired, { retired: true }) : undefined,
      plain.length ? this.backend.stop(plain) : undefined,
    ]);
    if (toStart.length) {
      const scheduler = this.options.schedulerAddress();
      const pool = this.options.pool;
      const env = pool ? { ...this.options.workerEnv?.(), ...pool.env } : this.options.workerEnv?.();
      const specs: WorkerSpec[] = toStart.map((name) => ({
        name,
        scheduler,
        nthreads: this.options.nthreads,
        memoryLimit: this.options.memoryLimit,
        ...(env && Object.keys(env).length ? { env: { ...env } } : {}),
        ...(pool ? { pool: { name: pool.name, resources: { ...pool.resources }, labels: { ...pool.labels } } } : {}),
      }));
      const at = this.now();
      for (const n of toStart) {
        this.exitedSeen.delete(n);
        this.requestedSet.add(n);
        this.alive.add(n);
        const arrived = this.observedSet.has(n);
        this.track.set(n, { requestedAt: at, arrived });
        if (!arrived) this.watch.add(n);
      }
      this.changed();
      try {
        await this.backend.start(specs);
        if (this.capacity === undefined) this.capacityFailures = 0;
      } catch (e) {
        for (const n of toStart) {
          this.forget(n);
          this.alive.delete(n);
        }
        if (isEbbtideError(e) && e.code === 'BACKEND_CAPACITY') this.noteCapacity(toStart, describeError(e));
        else this.noteFailure();
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

  /** Stops every requested worker (or, with `keep`, leaves them) and detaches from the backend. */
  async close(options: { keep?: boolean } = {}): Promise<void> {
    if (options.keep) {
      this.sub.unsubscribe();
      return;
    }
    this.planList.length = 0;
    this.changed();
    try {
      await this.reconcile();
    } finally {
      this.sub.unsubscribe();
    }
  }
}

/** Orders `c-2` before `c-10`: by the trailing counter, then by name. */
function byCounter(a: string, b: string): number {
  const na = Number(/(\d+)$/.exec(a)?.[1] ?? NaN);
  const nb = Number(/(\d+)$/.exec(b)?.[1] ?? NaN);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
