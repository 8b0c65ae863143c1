import { BehaviorSubject, EMPTY, Subject, type Observable, type SchedulerLike, type Subscription, defer, exhaustMap, filter, from, interval, map, merge, of, switchMap, throttleTime } from 'rxjs';
import type { DecisionOutcome, DecisionRecord, ProposedWorker, ScalingMode } from '../DecisionRecord.js';
import type { ClusterLike } from '../cluster/ClusterLike.js';
import type { PoolSet } from '../pools/PoolSet.js';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import { type WorkerInfo, type WorkerStatus, workerTaskCount } from '../contracts/WorkerInfo.js';
import { decideTick } from '../decide/decideTick.js';
import { EbbtideError, describeError, isEbbtideError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/Logger.js';
import type { SchedulerStateStore } from '../state/SchedulerStateStore.js';

export interface AdaptiveOptions {
  /** Seconds between ticks; 0 disables the timer (manual `tick()` still works). */
  interval: number;
  minimum: number;
  maximum: number;
  waitCount: number;
  /**
   * Seconds: the early tick's delay and spacing (`adaptive.earlyTick`); 0 or unset: off. Needs
   * `changes$` in the deps. See "Early tick" on `Adaptive`.
   */
  earlyTick?: number;
}

export interface AdaptiveDeps {
  store: SchedulerStateStore;
  scheduler: Pick<SchedulerAdapter, 'retire'>;
  /** A `Cluster`, or the `pools` set itself. */
  cluster: ClusterLike;
  /**
   * With worker pools or guard rails (docs/pools.md, docs/guard-rails.md): the set that decides
   * across pools and acts on them; `cluster` is then this set.
   */
  pools?: PoolSet;
  heuristic: ScalingHeuristic;
  strategy: WorkersToClose;
  workerKey: WorkerKey;
  rx: SchedulerLike;
  logger?: Logger;
  /**
   * Emits after the store applied scheduler events (the `Autoscaler` feeds it): where the early
   * tick looks for new work. Without it there is no early tick.
   */
  changes$?: Observable<unknown>;
}

export type AdaptiveState = 'inactive' | 'running' | 'stopped';

/**
 * How the loop sizes the cluster now. `minimum`/`maximum` are the adaptive bounds (kept while in
 * manual mode, used again by `adapt()`); `n` is the manual count.
 */
export interface ScalingState {
  mode: ScalingMode;
  minimum: number;
  maximum: number;
  n?: number;
}

/**
 * New adaptive bounds and loop settings (Dask's `cluster.adapt(minimum, maximum, interval=,
 * wait_count=, target_duration=)`); anything left out keeps its current value. `maximum` may be
 * `Infinity`.
 */
export interface AdaptBounds {
  minimum?: number;
  maximum?: number;
  /** Seconds between ticks, > 0 (the timer restarts with it). */
  interval?: number;
  /** Ticks in a row a worker must be proposed before it is closed. */
  waitCount?: number;
  /**
   * Seconds the queued and running work should take (Dask's `target_duration`): handed to the
   * heuristic in its context, instead of its configured `adaptive.targetDuration`.
   */
  targetDuration?: number;
}

function positiveSeconds(what: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  throw new EbbtideError('INPUT_INVALID', `${what}: expected a number of seconds > 0, got ${JSON.stringify(v)}`);
}

function wholeNumber(what: string, v: unknown, allowInf = false): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (allowInf && v === Infinity) return v;
  throw new EbbtideError('INPUT_INVALID', `${what}: expected a whole number >= 0${allowInf ? ' or "inf"' : ''}, got ${JSON.stringify(v === Infinity ? 'inf' : v)}`);
}

/**
 * The adaptive loop (Dask's `Adaptive`): every `interval` on the injected RxJS scheduler it
 * decides (pure `decideTick`) and acts through the scheduler adapter and the cluster.
 *
 * - Ticks come from `interval(…, rx)` through `exhaustMap`: a tick still running makes the next
 *   ones skip, never queue or overlap.
 * - A failing tick is recorded (`outcome.status: failed`), logged as `tick.failed`, and the loop
 *   keeps going (Dask #8871).
 * - Down: workers that never arrived are cancelled; connected ones are retired through the
 *   scheduler first, and a worker the scheduler keeps (data with no recipient) is not stopped.
 * - While the scheduler connection is lost, no scale-down is acted on.
 * - `scale(n)` switches to manual mode (Dask's `cluster.scale(n)`): the target is `n`, acted on
 *   through the same retire-then-stop path with no hysteresis, until `adapt(...)` switches back.
 *   Either one runs a tick at once (unless one is running), instead of waiting for the timer.
 *
 * Early tick (`earlyTick` > 0, opt-in): quicker reaction to a burst of work, without changing
 * any decision rule.
 * - Trigger: after a store change (`changes$`) or a tick, the demand (tasks queued + unrunnable
 *   + processing) is above the lowest demand seen since the last decision. Only in adaptive
 *   mode, while connected, below `maximum`, and never with pools or guard rails (their
 *   stabilization windows and rate policies count interval ticks).
 * - Rate limit: `throttleTime(earlyTick, rx, trailing)` — the tick runs `earlyTick` after the
 *   first sign of new work (so the rest of a burst is seen by the same tick), at most one per
 *   `earlyTick`, on the injected scheduler, through the same `exhaustMap` as the timer (a tick
 *   still running drops it; the check after that tick arms it again).
 * - Scale-up only: it decides like an interval tick (the same pure `decideTick` on the store's
 *   current state; the cluster's bookkeeping of arrivals and losses and the reconcile step stay
 *   with the interval ticks, which time them). An `up` is acted on and recorded as an ordinary
 *   tick (its explanation has `earlyTick`) and, as any up, resets the close counters (Dask).
 *   Anything else (`same`, `down`, a failure) is dropped without a trace: the close counters
 *   are put back and no record is published, so `waitCount` keeps counting interval ticks and a
 *   scale-down is never hastened. An early up still starting workers when the timer fires makes
 *   that interval tick skip, as any slow tick does: after an up that reset the counters, this
 *   can only delay a scale-down by one interval.
 */
export class Adaptive {
  private readonly decisionsSubject = new Subject<DecisionRecord>();
  /** One record per tick, after its actions finished. */
  readonly decisions$: Observable<DecisionRecord> = this.decisionsSubject.asObservable();
  private closeCounts: Record<string, number> = {};
  private tickCount = 0;
  /** Clock seconds at which the scheduler connection was first seen lost; unset while connected. */
  private blindSince?: number;
  private sub?: Subscription;
  private stateValue: AdaptiveState = 'inactive';
  private readonly logger: Logger;
  private scalingState: ScalingState;
  /** A tick now, outside the timer (after a mode change); dropped while one is running. */
  private readonly kicks = new Subject<void>();
  /** Milliseconds between ticks; a new value restarts the timer (`adapt({interval})`). */
  private readonly period: BehaviorSubject<number>;
  private waitCountValue: number;
  private targetDurationValue?: number;
  /**
   * The early tick's baseline: the demand the last decision saw, lowered to the least seen since
   * (work that finished and came back is new work too).
   */
  private demandSeen = 0;
  /** After each tick: the early tick checks whether work arrived while it ran. */
  private readonly tickEnded = new Subject<void>();

  constructor(
    private readonly deps: AdaptiveDeps,
    private readonly options: AdaptiveOptions,
  ) {
    this.logger = deps.logger ?? silentLogger;
    this.scalingState = { mode: 'adaptive', minimum: options.minimum, maximum: options.maximum };
    this.period = new BehaviorSubject(options.interval * 1000);
    this.waitCountValue = options.waitCount;
  }

  get state(): AdaptiveState {
    return this.stateValue;
  }

  /** The scaling mode and its numbers. */
  get scaling(): ScalingState {
    return { ...this.scalingState };
  }

  /** Clock seconds since which the scheduler cannot be read, as of the last tick; unset while connected. */
  get blind(): number | undefined {
    return this.blindSince;
  }

  get waitCount(): number {
    return this.waitCountValue;
  }

  get interval(): number {
    return this.period.value / 1000;
  }

  /** The target duration set by `adapt({targetDuration})`; unset: the heuristic's configured one. */
  get targetDuration(): number | undefined {
    return this.targetDurationValue;
  }

  /**
   * Manual mode: hold the cluster at `n` workers (Dask's `cluster.scale(n)`), whatever the
   * heuristic says, until `adapt()`. Shrinking still retires through the scheduler first.
   *
   * @throws EbbtideError `INPUT_INVALID` unless `n` is a whole number >= 0.
   */
  scale(n: number): ScalingState {
    const count = wholeNumber('n', n);
    this.scalingState = { mode: 'manual', minimum: this.scalingState.minimum, maximum: this.scalingState.maximum, n: count };
    this.closeCounts = {};
    this.logger.info({ event: 'scaling.manual', n: count }, `manual scaling: holding ${count} worker(s)`);
    this.kick();
    return this.scaling;
  }

  /**
   * Adaptive mode with these bounds and settings (anything left out keeps its value); the
   * hysteresis counters start afresh, as after Dask's `cluster.adapt(...)`. A new `interval`
   * restarts the timer; nothing changes unless every value is valid.
   *
   * @throws EbbtideError `INPUT_INVALID` for a bound or `waitCount` that is not a whole number
   *   >= 0 (maximum: or `Infinity`), a minimum above the maximum, or an `interval` or
   *   `targetDuration` that is not a number of seconds > 0.
   */
  adapt(bounds: AdaptBounds = {}): ScalingState {
    const minimum = bounds.minimum === undefined ? this.scalingState.minimum : wholeNumber('minimum', bounds.minimum);
    const maximum = bounds.maximum === undefined ? this.scalingState.maximum : wholeNumber('maximum', bounds.maximum, true);
    if (minimum > maximum) {
      throw new EbbtideError('INPUT_INVALID', `minimum (${minimum}) must not exceed maximum (${maximum === Infinity ? 'inf' : maximum})`);
    }
    const interval = bounds.interval === undefined ? undefined : positiveSeconds('interval', bounds.interval);
    const waitCount = bounds.waitCount === undefined ? undefined : wholeNumber('waitCount', bounds.waitCount);
    const targetDuration = bounds.targetDuration === undefined ? undefined : positiveSeconds('targetDuration', bounds.targetDuration);
    this.scalingState = { mode: 'adaptive', minimum, maximum };
    this.closeCounts = {};
    if (waitCount !== undefined) this.waitCountValue = waitCount;
    if (targetDuration !== undefined) this.targetDurationValue = targetDuration;
    if (interval !== undefined && interval * 1000 !== this.period.value) this.period.next(interval * 1000);
    this.logger.info(
      { event: 'scaling.adaptive', minimum, maximum, interval: this.interval, waitCount: this.waitCountValue, ...(this.targetDurationValue !== undefined ? { targetDuration: this.targetDurationValue } : {}) },
      'adaptive scaling',
    );
    this.kick();
    return this.scaling;
  }

  private kick(): void {
    if (this.stateValue === 'running') this.kicks.next();
  }

  /** Starts the timer. The first tick runs one interval after start. */
  start(): void {
    if (this.stateValue !== 'inactive') return;
    if (!(this.options.interval > 0)) return;
    this.stateValue = 'running';
    this.logger.info({ event: 'adaptive.start', minimum: this.scalingState.minimum, maximum: this.scalingState.maximum, interval: this.options.interval }, 'adaptive scaling started');
    // switchMap restarts only the timer when the interval changes; exhaustMap still keeps one tick at a time.
    const timer = this.period.pipe(switchMap((ms) => interval(ms, this.deps.rx)));
    const ticks = merge(timer, this.kicks).pipe(map(() => 'interval' as const));
    this.sub = merge(ticks, this.earlyTicks())
      .pipe(exhaustMap((kind) => (kind === 'early' ? this.earlyTick$() : this.tick$())))
      .subscribe();
  }

  /** When work arrives: `earlyTick` after the first sign of it, at most one per `earlyTick` (see the class doc). */
  private earlyTicks(): Observable<'early'> {
    const ms = (this.options.earlyTick ?? 0) * 1000;
    const changes = this.deps.changes$;
    if (!(ms > 0) || !changes || this.deps.pools) return EMPTY;
    return merge(changes, this.tickEnded).pipe(
      filter(() => this.newWork()),
      throttleTime(ms, this.deps.rx, { leading: false, trailing: true }),
      map(() => 'early' as const),
    );
  }

  /** The store's demand: tasks queued, unrunnable or processing. */
  private demand(): number {
    const c = this.deps.store.counts();
    return c.queued + c.unrunnable + c.processing;
  }

  /** True when an early tick could scale up: more work than the baseline, and room to grow. */
  private newWork(): boolean {
    const demand = this.demand();
    if (demand < this.demandSeen) this.demandSeen = demand;
    return (
      demand > this.demandSeen &&
      this.stateValue === 'running' &&
      this.scalingState.mode === 'adaptive' &&
      this.deps.store.connected &&
      this.blindSince === undefined &&
      this.deps.cluster.plan.length < this.scalingState.maximum
    );
  }

  /**
   * The early tick: decides like `tick$` (without its reconcile step and the cluster's
   * observation, the interval's jobs) and goes on only with an `up`; anything else leaves no
   * trace (close counters restored, no record).
   */
  private earlyTick$(): Observable<DecisionRecord> {
    return defer(() => {
      if (!this.newWork()) return EMPTY;
      const baseline = this.demandSeen;
      const before = this.closeCounts;
      const time = this.deps.rx.now() / 1000;
      let record: DecisionRecord;
      try {
        record = this.decide(this.tickCount + 1, time, false);
      } catch {
        // Left to the next interval tick, which records the failure.
        this.closeCounts = before;
        return EMPTY;
      }
      if (record.recommendation.status !== 'up') {
        this.closeCounts = before;
        return EMPTY;
      }
      this.tickCount++;
      const demand = this.demandSeen;
      record.explanation = {
        ...record.explanation,
        earlyTick: `${demand} task(s) queued, unrunnable or processing, up from ${baseline}: ticked ${this.options.earlyTick}s after the work arrived instead of waiting for the interval`,
      };
      return from(
        this.act(record).then(
          (outcome) => this.emit({ ...record, outcome }),
          (e: unknown) => this.failed(record, e),
        ),
      );
    });
  }

  /** Stops the timer (idempotent: logs its reason once). */
  stop(reason = 'unknown'): void {
    if (this.stateValue === 'stopped') return;
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopped';
    this.sub?.unsubscribe();
    this.kicks.complete();
    this.tickEnded.complete();
    if (wasRunning) this.logger.info({ event: 'adaptive.stop', reason, minimum: this.scalingState.minimum, maximum: this.scalingState.maximum }, 'adaptive scaling stopped');
    this.decisionsSubject.complete();
  }

  /** One guarded tick, resolving to its record. */
  tick(): Promise<DecisionRecord> {
    return new Promise((resolve) => {
      this.tick$().subscribe({ next: resolve });
    });
  }

  /**
   * One guarded tick as an observable: synchronous when nothing needs awaiting (a `same`
   * decision), so loop tests can run it in virtual time.
   */
  tick$(): Observable<DecisionRecord> {
    return defer(() => {
      const tick = ++this.tickCount;
      const time = this.deps.rx.now() / 1000;
      const { cluster, store } = this.deps;
      if (store.connected && this.blindSince !== undefined) {
        // Back from blindness: rebuild from what exists now, before any reconcile could relaunch
        // a plan made before the outage.
        cluster.observe(store.connectedNames());
        cluster.rebuild();
        this.closeCounts = {};
        this.logger.info({ event: 'scheduler.reconnected', blindSeconds: time - this.blindSince }, 'scheduler connection back; plan rebuilt');
        this.blindSince = undefined;
      }
      const decideAndAct = (): Observable<DecisionRecord> => {
        let record: DecisionRecord;
        try {
          record = this.decide(tick, time);
        } catch (e) {
          return of(
            this.failed({ tick, time, mode: this.scalingState.mode, target: 0, safeTarget: 0, workersToClose: [], recommendation: { status: 'same' }, closeCounts: {}, explanation: {} }, e),
          );
        }
        const rec = record.recommendation;
        if (rec.status === 'same') return of(this.emit({ ...record, outcome: { status: 'none' } }));
        return from(
          this.act(record).then(
            (outcome) => this.emit({ ...record, outcome }),
            (e: unknown) => this.failed(record, e),
          ),
        );
      };
      // Most ticks have nothing to reconcile: decided at once, without a pipeline around it.
      if (!(store.connected && cluster.plan.length !== cluster.requested.length)) return decideAndAct();
      return from(this.guard(() => cluster.reconcile())).pipe(exhaustMap(decideAndAct));
    });
  }

  private async guard<T>(f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      this.logger.warn({ event: 'reconcile.failed', error: describeError(e) }, 'reconcile failed');
      return undefined;
    }
  }

  /**
   * `observe: false` (the early tick): the cluster's bookkeeping of arrivals and losses, timed
   * by the interval ticks, is left to them.
   */
  private decide(tick: number, time: number, observe = true): DecisionRecord {
    const { store, cluster } = this.deps;
    const snapshot = store.snapshot(time);
    // A stale view (blind) says nothing about arrivals or losses. The store hands out the same
    // names while nobody joined or left, so an unchanged cluster costs no walk.
    if (store.connected && observe) cluster.observe(store.connectedNames());
    const counts = store.counts();
    this.demandSeen = counts.queued + counts.unrunnable + counts.processing;
    const scaling = this.scalingState;
    const manual = scaling.mode === 'manual' ? scaling.n! : undefined;
    // Manual: the target is n, clamped to nothing but n, and acted on at once (no hysteresis).
    const waitCount = manual === undefined ? this.waitCountValue : 1;
    const before = this.closeCounts;
    const tickInput = {
      snapshot,
      heuristic: this.deps.heuristic,
      strategy: this.deps.strategy,
      workerKey: this.deps.workerKey,
      minimum: manual ?? scaling.minimum,
      maximum: manual ?? scaling.maximum,
      waitCount,
      ...(this.targetDurationValue !== undefined ? { targetDuration: this.targetDurationValue } : {}),
      plan: cluster.plan,
      requested: cluster.requested,
      closeCounts: before,
    };
    const blindSince = store.connected ? undefined : (this.blindSince ?? time);
    const record = this.deps.pools
      ? this.deps.pools.decide(tickInput, { time, manual: manual !== undefined, ...(blindSince !== undefined ? { blindSince } : {}) })
      : decideTick(tickInput);
    this.closeCounts = record.closeCounts;
    record.tick = tick;
    record.time = time;
    record.mode = scaling.mode;
    record.waitCount = waitCount;
    if (manual !== undefined) {
      const heuristicTarget = record.target;
      record.target = manual;
      record.explanation = {
        ...record.explanation,
        rule: `manual: scale(${manual}) holds the cluster at ${manual} worker(s)`,
        bounds: { minimum: manual, maximum: manual },
        manual: { n: manual, heuristicTarget },
      };
    }
    record.inputs = {
      workers: counts.workers,
      plan: cluster.plan.length,
      requested: cluster.requested.length,
      tasksQueued: counts.queued,
      tasksUnrunnable: counts.unrunnable,
      tasksProcessing: counts.processing,
      ...summarise(snapshot),
    };
    const proposed = this.proposed(record, before, waitCount);
    if (proposed.length) record.proposed = proposed;
    if (!store.connected) {
      // Blind: the scheduler state is stale — an idle-looking worker may be busy, and work seen
      // queued may be gone. Hold: neither grow nor shrink until it is back.
      this.blindSince ??= time;
      this.closeCounts = {};
      record.closeCounts = {};
      delete record.proposed;
      record.blind = { since: this.blindSince };
      // A blind rule that scales to a floor (adaptive.blind / a pool's blind) is acted on.
      if (record.recommendation.status !== 'same' && !record.guards?.some((g) => g.guard === 'blind')) {
        record.explanation = { ...record.explanation, blind: `scheduler connection lost since ${this.blindSince}: holding ${record.recommendation.status === 'up' ? 'the scale-up' : 'the scale-down'} until it is back` };
        record.recommendation = { status: 'same' };
      }
      return record;
    }
    const capacity = cluster.capacityLimit;
    if (capacity) {
      const exists = cluster.plan.length;
      if (record.safeTarget > exists) {
        record.safeTarget = exists;
        record.explanation = {
          ...record.explanation,
          bounds: { ...(record.explanation.bounds as object), cappedBy: 'capacity' },
          capacity: { until: capacity.until, reason: capacity.reason, failures: capacity.failures },
        };
      }
      if (record.recommendation.status === 'up') record.recommendation = { status: 'same' };
    }
    return record;
  }

  /**
   * Every worker proposed for closing this tick — the firm ones (in the recommendation) first —
   * with what it was doing and holding: one store lookup per proposed worker, nothing when none is.
   */
  private proposed(record: DecisionRecord, before: Readonly<Record<string, number>>, waitCount: number): ProposedWorker[] {
    const firm = record.recommendation.status === 'down' ? record.recommendation.workers : [];
    const pending = Object.keys(record.closeCounts);
    if (!firm.length && !pending.length) return [];
    // The store answers by name what this tick's snapshot shows (nothing changed in between).
    const { store } = this.deps;
    const describe = (name: string, count: number, isFirm: boolean): ProposedWorker => {
      const w = store.worker(name);
      if (!w) return { name, count, firm: isFirm, connected: false };
      const tasks = workerTaskCount(w);
      return { name, count, firm: isFirm, connected: true, idle: tasks === 0, tasks, nbytes: w.nbytes, group: this.deps.workerKey.key(w) };
    };
    return [
      ...firm.map((n) => describe(n, Math.max(waitCount, (before[n] ?? 0) + 1), true)),
      ...pending.map((n) => describe(n, record.closeCounts[n]!, false)),
    ];
  }

  private act(record: DecisionRecord): Promise<DecisionOutcome> {
    const pools = this.deps.pools;
    if (pools) return pools.act(record, { act: () => this.actOn(record), down: (workers) => this.retireAndStop(record, workers) });
    return this.actOn(record);
  }

  private async actOn(record: DecisionRecord): Promise<DecisionOutcome> {
    const rec = record.recommendation;
    if (rec.status === 'up') {
      const { started } = await this.deps.cluster.scale(rec.n);
      this.logger.info({ event: 'scale.up', tick: record.tick, from: record.inputs?.plan, to: rec.n, started }, 'up');
      return { status: 'scaled-up', started };
    }
    if (rec.status !== 'down') return { status: 'none' };
    return this.retireAndStop(record, rec.workers);
  }

  /** Cancels the workers that never connected, retires the others through the scheduler, stops what it let go. */
  private async retireAndStop(record: DecisionRecord, workers: readonly string[]): Promise<DecisionOutcome> {
    const { cluster, scheduler } = this.deps;
    this.logger.info({ event: 'scale.down', tick: record.tick, workers }, 'retiring workers');
    const observed = new Set(cluster.observed);
    const arrived = workers.filter((w) => observed.has(w));
    const cancelled = workers.filter((w) => !observed.has(w));
    const retired: string[] = [];
    const kept: Array<{ name: string; reason: string }> = [];
    if (arrived.length) {
      const result = await scheduler.retire(arrived);
      const byName = new Map(result.outcomes.map((o) => [o.name, o]));
      for (const name of arrived) {
        const o = byName.get(name);
        if (o?.status === 'kept') kept.push({ name, reason: `kept: ${o.reason ?? 'holds data that cannot be moved'}` });
        else if (o?.status === 'retired') retired.push(name);
        else cancelled.push(name);
      }
      // A worker cancelled because it had not connected yet may connect while the others are
      // retired (a retirement lasts as long as its data takes to move) and take work or results
      // meanwhile: it is retired in turn, never stopped under them.
      const tried = new Set(arrived);
      for (;;) {
        const connected = new Set(this.deps.store.workerNames());
        const late = cancelled.filter((w) => !tried.has(w) && connected.has(w));
        if (!late.length) break;
        for (const w of late) tried.add(w);
        const again = new Map((await scheduler.retire(late)).outcomes.map((o) => [o.name, o]));
        for (const name of late) {
          const o = again.get(name);
          if (o?.status !== 'retired' && o?.status !== 'kept') continue;
          cancelled.splice(cancelled.indexOf(name), 1);
          if (o.status === 'kept') kept.push({ name, reason: `kept: ${o.reason ?? 'holds data that cannot be moved'}` });
          else retired.push(name);
        }
      }
    }
    await Promise.all([
      cancelled.length ? cluster.scaleDown(cancelled) : undefined,
      retired.length ? cluster.scaleDown(retired, { retired: true }) : undefined,
    ]);
    const toStop = [...cancelled, ...retired];
    for (const k of kept) this.logger.warn({ event: 'retire.kept', worker: k.name, reason: k.reason }, 'worker kept');
    return {
      status: kept.length ? (toStop.length ? 'partial' : 'skipped') : 'scaled-down',
      stopped: toStop,
      ...(retired.length ? { retired } : {}),
      ...(cancelled.length ? { cancelled } : {}),
      ...(kept.length ? { kept } : {}),
    };
  }

  private failed(record: DecisionRecord, e: unknown): DecisionRecord {
    const retryable = isEbbtideError(e) ? e.data?.retryable : undefined;
    const error = {
      ...(isEbbtideError(e) ? { code: e.code } : {}),
      message: describeError(e),
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
    };
    this.logger.warn({ event: 'tick.failed', tick: record.tick, error: error.message, code: error.code }, 'adaptive tick failed');
    return this.emit({ ...record, outcome: { status: 'failed', error } });
  }

  /** Publishes a record (always a fresh object), stamped with the tick's duration. */
  private emit(record: DecisionRecord): DecisionRecord {
    if (record.time !== undefined) record.duration = Math.max(0, this.deps.rx.now() / 1000 - record.time);
    this.decisionsSubject.next(record);
    this.tickEnded.next();
    return record;
  }
}

type WorkersByStatus = Record<WorkerStatus, number>;

/** Counts by worker list: the store shares one list between snapshots while no worker changes. */
const statusCounts = new WeakMap<readonly WorkerInfo[], WorkersByStatus>();

function byStatus(workers: readonly WorkerInfo[]): WorkersByStatus {
  let counts = statusCounts.get(workers);
  if (!counts) {
    const c = { running: 0, paused: 0, closing: 0 };
    for (let i = 0; i < workers.length; i++) c[workers[i]!.status]++;
    statusCounts.set(workers, (counts = Object.freeze(c)));
  }
  // A fresh copy: a record's inputs are its own.
  return { ...counts };
}

/** The scheduler state summed up for the record: workers by status, threads, occupancy, memory. */
function summarise(snapshot: SchedulerSnapshot): Required<Pick<NonNullable<DecisionRecord['inputs']>, 'workersByStatus' | 'threads' | 'occupancy' | 'memory'>> {
  const workersByStatus = byStatus(snapshot.workers);
  let totals = snapshot.totals;
  if (!totals) {
    totals = { processing: {}, workerTasks: 0, nthreads: 0, memoryLimit: 0, nbytes: 0 };
    for (const w of snapshot.workers) {
      totals.workerTasks += workerTaskCount(w);
      totals.nthreads += w.nthreads;
      totals.memoryLimit += w.memoryLimit;
      totals.nbytes += w.nbytes;
    }
  }
  return {
    workersByStatus,
    threads: totals.nthreads,
    occupancy: totals.nthreads > 0 ? totals.workerTasks / totals.nthreads : 0,
    memory: { used: totals.nbytes, limit: totals.memoryLimit },
  };
}
