import { Subject, type Observable, type SchedulerLike, type Subscription, defer, exhaustMap, from, interval, of } from 'rxjs';
import type { DecisionOutcome, DecisionRecord } from '../DecisionRecord.js';
import type { Cluster } from '../cluster/Cluster.js';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import { decideTick } from '../decide/decideTick.js';
import { describeError, isEbbtideError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/Logger.js';
import type { SchedulerStateStore } from '../state/SchedulerStateStore.js';

export interface AdaptiveOptions {
  /** Seconds between ticks; 0 disables the timer (manual `tick()` still works). */
  interval: number;
  minimum: number;
  maximum: number;
  waitCount: number;
}

export interface AdaptiveDeps {
  store: SchedulerStateStore;
  scheduler: Pick<SchedulerAdapter, 'retire'>;
  cluster: Cluster;
  heuristic: ScalingHeuristic;
  strategy: WorkersToClose;
  workerKey: WorkerKey;
  rx: SchedulerLike;
  logger?: Logger;
}

export type AdaptiveState = 'inactive' | 'running' | 'stopped';

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

  constructor(
    private readonly deps: AdaptiveDeps,
    private readonly options: AdaptiveOptions,
  ) {
    this.logger = deps.logger ?? silentLogger;
  }

  get state(): AdaptiveState {
    return this.stateValue;
  }

  /** Starts the timer. The first tick runs one interval after start. */
  start(): void {
    if (this.stateValue !== 'inactive') return;
    if (!(this.options.interval > 0)) return;
    this.stateValue = 'running';
    this.logger.info({ event: 'adaptive.start', minimum: this.options.minimum, maximum: this.options.maximum, interval: this.options.interval }, 'adaptive scaling started');
    this.sub = interval(this.options.interval * 1000, this.deps.rx)
      .pipe(exhaustMap(() => this.tick$()))
      .subscribe();
  }

  /** Stops the timer (idempotent: logs its reason once). */
  stop(reason = 'unknown'): void {
    if (this.stateValue === 'stopped') return;
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopped';
    this.sub?.unsubscribe();
    if (wasRunning) this.logger.info({ event: 'adaptive.stop', reason, minimum: this.options.minimum, maximum: this.options.maximum }, 'adaptive scaling stopped');
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
        cluster.observe(store.snapshot(time).workers.map((w) => w.name));
        cluster.rebuild();
        this.closeCounts = {};
        this.logger.info({ event: 'scheduler.reconnected', blindSeconds: time - this.blindSince }, 'scheduler connection back; plan rebuilt');
        this.blindSince = undefined;
      }
      const reconcile =
        store.connected && cluster.plan.length !== cluster.requested.length ? from(this.guard(() => cluster.reconcile())) : of(undefined);
      return reconcile.pipe(
        exhaustMap(() => {
          let record: DecisionRecord;
          try {
            record = this.decide(tick, time);
          } catch (e) {
            return of(this.failed({ tick, time, target: 0, safeTarget: 0, workersToClose: [], recommendation: { status: 'same' }, closeCounts: {}, explanation: {} }, e));
          }
          const rec = record.recommendation;
          if (rec.status === 'same') return of(this.emit({ ...record, outcome: { status: 'none' } }));
          return from(
            this.act(record).then(
              (outcome) => this.emit({ ...record, outcome }),
              (e: unknown) => this.failed(record, e),
            ),
          );
        }),
      );
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

  private decide(tick: number, time: number): DecisionRecord {
    const { store, cluster } = this.deps;
    const snapshot = store.snapshot(time);
    // A stale view (blind) says nothing about arrivals or losses.
    if (store.connected) cluster.observe(snapshot.workers.map((w) => w.name));
    const counts = store.counts();
    const record = decideTick({
      snapshot,
      heuristic: this.deps.heuristic,
      strategy: this.deps.strategy,
      workerKey: this.deps.workerKey,
      minimum: this.options.minimum,
      maximum: this.options.maximum,
      waitCount: this.options.waitCount,
      plan: cluster.plan,
      requested: cluster.requested,
      closeCounts: this.closeCounts,
    });
    this.closeCounts = record.closeCounts;
    record.tick = tick;
    record.time = time;
    record.inputs = {
      workers: counts.workers,
      plan: cluster.plan.length,
      requested: cluster.requested.length,
      tasksQueued: counts.queued,
      tasksUnrunnable: counts.unrunnable,
      tasksProcessing: counts.processing,
    };
    if (!store.connected) {
      // Blind: the scheduler state is stale — an idle-looking worker may be busy, and work seen
      // queued may be gone. Hold: neither grow nor shrink until it is back.
      this.blindSince ??= time;
      this.closeCounts = {};
      record.closeCounts = {};
      record.blind = { since: this.blindSince };
      if (record.recommendation.status !== 'same') {
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

  private async act(record: DecisionRecord): Promise<DecisionOutcome> {
    const rec = record.recommendation;
    const { cluster, scheduler } = this.deps;
    if (rec.status === 'up') {
      const { started } = await cluster.scale(rec.n);
      this.logger.info({ event: 'scale.up', tick: record.tick, from: record.inputs?.plan, to: rec.n, started }, 'up');
      return { status: 'scaled-up', started };
    }
    if (rec.status !== 'down') return { status: 'none' };
    this.logger.info({ event: 'scale.down', tick: record.tick, workers: rec.workers }, 'retiring workers');
    const observed = new Set(cluster.observed);
    const arrived = rec.workers.filter((w) => observed.has(w));
    const cancelled = rec.workers.filter((w) => !observed.has(w));
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
      ...(kept.length ? { kept } : {}),
    };
  }

  private failed(record: DecisionRecord, e: unknown): DecisionRecord {
    const error = { ...(isEbbtideError(e) ? { code: e.code } : {}), message: describeError(e) };
    this.logger.warn({ event: 'tick.failed', tick: record.tick, error: error.message, code: error.code }, 'adaptive tick failed');
    return this.emit({ ...record, outcome: { status: 'failed', error } });
  }

  private emit(record: DecisionRecord): DecisionRecord {
    this.decisionsSubject.next(record);
    return record;
  }
}
