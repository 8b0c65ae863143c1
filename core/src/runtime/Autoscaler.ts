import { type Observable, Subject, type Subscription, firstValueFrom, timer } from 'rxjs';
import { Adaptive } from '../loop/Adaptive.js';
import type { AdoptionResult } from '../cluster/Cluster.js';
import type { ClusterLike } from '../cluster/ClusterLike.js';
import { type BuiltCluster, buildCluster, checkPoolSelections } from '../pools/buildCluster.js';
import type { PoolSet } from '../pools/PoolSet.js';
import { poolSettings } from '../pools/poolSettings.js';
import type { ResourceBackend } from '../contracts/ResourceBackend.js';
import type { RetireOutcome, SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { DecisionRecord } from '../DecisionRecord.js';
import { describeError, isEbbtideError } from '../errors.js';
import type { Kernel } from '../plugins/Kernel.js';
import { SchedulerStateStore } from '../state/SchedulerStateStore.js';
import { ClusterView } from './ClusterView.js';
import { DecisionHistory } from './DecisionHistory.js';


export interface AutoscalerParts {
  scheduler: SchedulerAdapter;
  backend: ResourceBackend;
  /** With `pools:`, a backend per pool name (the simulator's); pools not given are resolved from the config. */
  backends: Record<string, ResourceBackend>;
}

export interface ShutdownOptions {
  /**
   * Retire workers through the scheduler before stopping them (schedulers that outlive the
   * process); off for an embedded scheduler, whose results die with it anyway.
   */
  retire?: boolean;
  /** `stop` (default: `shutdown.workers`) or `keep` every worker running for the next ebbtide. */
  workers?: 'stop' | 'keep';
  /** Seconds to wait for unmovable results to be released (default: `shutdown.timeout`). */
  timeout?: number;
}

/** What a shutdown did. */
export interface ShutdownSummary {
  /** Workers stopped. */
  stopped: string[];
  /** Workers left running (`keep`). */
  left: string[];
  /**
   * Results lost because their only holder was stopped after the timeout (or when retiring
   * failed): how many, up to 20 keys, the workers, and whether the count is exact (the
   * scheduler could say for every worker).
   */
  lost: { count: number; keys: string[]; workers?: string[]; exact?: boolean };
}

/** Seconds between retries of a worker kept by retirement while shutting down. */
const SHUTDOWN_RETRY_SECONDS = 1;

/**
 * The whole running system for one kernel: the selected scheduler adapter feeding a state store,
 * a cluster over the selected backend, and the adaptive loop between them.
 *
 * Start-up order makes a restart invisible to the cluster: connect to the scheduler, claim the
 * cluster there, adopt what the backend and the scheduler already have, and only then let the
 * loop decide. A second live ebbtide of the same cluster is refused (`CLUSTER_LOCKED`).
 *
 * @example
 * ```ts
 * const auto = await Autoscaler.start(kernel);
 * auto.decisions$.subscribe((r) => console.log(r.recommendation));
 * process.once('SIGTERM', () => auto.shutdown('SIGTERM'));
 * ```
 */
export class Autoscaler {
  readonly store: SchedulerStateStore;
  /** One `Cluster`, or with pools (or guard rails) the `PoolSet`. */
  readonly cluster: ClusterLike;
  /** The pool set, with `pools:` or guard rails (docs/pools.md); `cluster` is then this set. */
  readonly pools?: PoolSet;
  /** The backend, or with pools every pool's backend as one. */
  readonly backend: ResourceBackend;
  readonly adaptive: Adaptive;
  private stopWith!: (reason: string) => void;
  /**
   * Resolves when the autoscaler stopped by itself (not through `shutdown` by its owner): its
   * backend lost the cluster's lock to another ebbtide, or failed. The reason says which.
   */
  readonly stoppedItself: Promise<string> = new Promise((resolve) => (this.stopWith = resolve));
  /** The last decisions (`adaptive.historyLength` entries, quiet `same` runs folded). */
  readonly history: DecisionHistory;
  /** The per-worker table: plan, backend and scheduler joined, with ages. */
  readonly view: ClusterView;
  /** Clock seconds at construction. */
  readonly startedAt: number;
  private readonly sub: Subscription;
  private readonly records = new Subject<DecisionRecord>();
  private shuttingDown?: Promise<ShutdownSummary>;
  /** What start-up adopted. */
  adoption: AdoptionResult = { adopted: [], fromBackend: [], fromScheduler: [] };

  private constructor(
    readonly kernel: Kernel,
    readonly scheduler: SchedulerAdapter,
    built: BuiltCluster,
  ) {
    const config = kernel.config;
    this.startedAt = kernel.rxScheduler.now() / 1000;
    this.history = new DecisionHistory(config.adaptive.historyLength);
    this.store = new SchedulerStateStore({ defaultTaskDurations: config.scheduler.defaultTaskDurations });
    // After the store took an event: the adaptive loop's early tick looks for new work there.
    const changes = new Subject<void>();
    this.sub = scheduler.events$.subscribe((e) => {
      this.store.apply(e);
      changes.next();
    });
    this.cluster = built.cluster;
    this.backend = built.backend;
    if (built.pools) this.pools = built.pools;
    const backend = this.backend;
    this.adaptive = new Adaptive(
      {
        store: this.store,
        scheduler,
        cluster: this.cluster,
        ...(this.pools ? { pools: this.pools } : {}),
        heuristic: kernel.resolve('heuristic'),
        strategy: kernel.resolve('workersToClose'),
        workerKey: kernel.resolve('workerKey'),
        rx: kernel.rxScheduler,
        logger: kernel.logger.child({ component: 'adaptive' }),
        changes$: changes,
      },
      {
        interval: config.adaptive.interval,
        minimum: config.adaptive.minimum,
        maximum: config.adaptive.maximum,
        waitCount: config.adaptive.waitCount,
        earlyTick: config.adaptive.earlyTick,
      },
    );
    this.view = new ClusterView(this.cluster, this.store, backend.status$, scheduler.events$, kernel.rxScheduler, {
      nthreads: config.cluster.nthreads,
      memoryLimit: config.cluster.memoryLimit,
    });
    this.sub.add(this.adaptive.decisions$.subscribe((r) => this.publish(r)));
    // A backend that can no longer see its workers (another ebbtide took its lease): stop
    // deciding, touch no worker — they are the new holder's now — and say so.
    this.sub.add(
      this.cluster.backendFailed$.subscribe((e) => {
        const code = isEbbtideError(e) ? e.code : undefined;
        const reason = code === 'CLUSTER_LOCKED' ? `lost the cluster to another ebbtide: ${describeError(e)}` : `the backend failed: ${describeError(e)}`;
        kernel.logger.error({ event: 'autoscaler.stopped', code, error: describeError(e) }, reason);
        this.stopWith(reason);
        void this.shutdown(reason, { workers: 'keep' });
      }),
    );
  }

  /** The history first, so a `decisions$` subscriber that reads it sees the record there. */
  private publish(r: DecisionRecord): void {
    this.history.push(r);
    this.records.next(r);
  }

  /** Every tick's record, then one `shutdown` record; completes after shutdown. */
  get decisions$(): Observable<DecisionRecord> {
    return this.records.asObservable();
  }

  /**
   * Resolves the scheduler adapter and backend selected by the config (or takes the given
   * ones), connects, claims and adopts the cluster, then starts the adaptive loop.
   *
   * @throws EbbtideError `CLUSTER_LOCKED` when another live ebbtide drives the cluster, or the
   *   scheduler's connection errors; nothing is left running then.
   */
  static async start(kernel: Kernel, parts: Partial<AutoscalerParts> = {}): Promise<Autoscaler> {
    const pooled = poolSettings(kernel.config).pools.length > 0;
    kernel.checkSelections((['scheduler', 'backend'] as const).filter((k) => !parts[k] && !(k === 'backend' && pooled)));
    checkPoolSelections(kernel, parts);
    const scheduler = parts.scheduler ?? kernel.resolve('scheduler');
    const auto = new Autoscaler(kernel, scheduler, buildCluster(kernel, scheduler, parts));
    const name = kernel.config.cluster.name;
    try {
      await scheduler.start();
      // The backend's lock first: it may wait (a standby replica waiting for its lease); the
      // scheduler's mark is checked once this process holds the cluster on the backend side.
      const connected = auto.store.snapshot(kernel.rxScheduler.now() / 1000).workers.map((w) => w.name);
      auto.adoption = await auto.cluster.adopt(connected);
      await scheduler.claim?.(name);
    } catch (e) {
      auto.sub.unsubscribe();
      auto.view.close();
      // Leave whatever exists untouched: it belongs to the cluster, not to this failed start.
      await auto.cluster.close({ keep: true }).catch(() => undefined);
      await auto.backend.close({ keep: true }).catch(() => undefined);
      await scheduler.close().catch(() => undefined);
      throw e;
    }
    auto.adaptive.start();
    return auto;
  }

  /**
   * Stops the loop, then either leaves every worker running (`keep`) or retires and stops them
   * (`stop`), then closes the backend and the scheduler connection. Safe to call more than once.
   */
  shutdown(reason: string, options: ShutdownOptions = {}): Promise<ShutdownSummary> {
    this.shuttingDown ??= this.doShutdown(reason, options);
    return this.shuttingDown;
  }

  private now(): number {
    return this.kernel.rxScheduler.now() / 1000;
  }

  private async doShutdown(reason: string, options: ShutdownOptions): Promise<ShutdownSummary> {
    const log = this.kernel.logger;
    const mode = options.workers ?? this.kernel.config.shutdown.workers;
    this.adaptive.stop(reason);
    const ours = [...this.cluster.requested];
    const summary: ShutdownSummary = { stopped: [], left: [], lost: { count: 0, keys: [] } };
    if (mode === 'keep') {
      summary.left = ours;
      log.info({ event: 'shutdown.keep', workers: ours }, `leaving ${ours.length} worker(s) running for the next ebbtide of cluster ${this.kernel.config.cluster.name}`);
      await this.step('cluster', () => this.cluster.close({ keep: true }));
      await this.step('backend', () => this.backend.close({ keep: true }));
    } else {
      if (options.retire) await this.retireAll(ours, options.timeout ?? this.kernel.config.shutdown.timeout, summary);
      summary.stopped = ours;
      await this.step('cluster', () => this.cluster.close());
      await this.step('backend', () => this.backend.close());
    }
    await this.step('scheduler', () => this.scheduler.close());
    this.sub.unsubscribe();
    this.view.close();
    this.publish({
      time: this.now(),
      mode: this.adaptive.scaling.mode,
      target: 0,
      safeTarget: 0,
      workersToClose: [],
      recommendation: mode === 'keep' ? { status: 'same' } : { status: 'down', workers: summary.stopped },
      closeCounts: {},
      explanation: { rule: `shutdown (${reason}): shutdown.workers ${mode}` },
      outcome: {
        status: 'shutdown',
        reason,
        ...(mode === 'keep' ? { left: summary.left } : { stopped: summary.stopped }),
        ...(summary.lost.workers?.length ? { lost: { count: summary.lost.count, keys: summary.lost.keys } } : {}),
      },
    });
    this.records.complete();
    this.history.complete();
    log.info({ event: 'shutdown.done', reason, workers: mode, lost: summary.lost.count }, 'stopped');
    return summary;
  }

  /**
   * Retires every connected worker through the scheduler. A worker kept because its results
   * cannot move is retried until `timeout` (the client may release them, or a worker may take
   * them); then it is stopped anyway and what it held is reported lost.
   */
  private async retireAll(names: readonly string[], timeout: number, summary: ShutdownSummary): Promise<void> {
    const log = this.kernel.logger;
    const deadline = this.now() + timeout;
    // Every worker the backend runs, not only those the last tick saw connected: one that
    // connected since (and took results) must be retired too; the scheduler answers `unknown`
    // for the rest, which are then simply stopped.
    let pending = [...names];
    // What each kept worker was last seen to hold alone (a later measurement may fail).
    const held = new Map<string, { count: number; keys: string[] }>();
    let warned = false;
    while (pending.length) {
      let outcomes: RetireOutcome[];
      try {
        outcomes = (await this.scheduler.retire(pending)).outcomes;
      } catch (e) {
        log.warn({ event: 'shutdown.retire-failed', workers: pending, error: describeError(e) }, 'retire failed; stopping the workers');
        break;
      }
      const kept = outcomes.filter((o) => o.status === 'kept');
      for (const o of kept) if (o.held) held.set(o.name, o.held);
      const retired = outcomes.filter((o) => o.status === 'retired').map((o) => o.name);
      const unknown = outcomes.filter((o) => o.status === 'unknown').map((o) => o.name);
      // Retired workers go at once (they are closing on the scheduler's word); never-connected
      // ones are simply stopped; only the ones still holding data wait.
      if (retired.length) await this.step('cluster', async () => void (await this.cluster.scaleDown(retired, { retired: true })));
      if (unknown.length) await this.step('cluster', async () => void (await this.cluster.scaleDown(unknown)));
      pending = kept.map((o) => o.name);
      if (!pending.length || this.now() >= deadline) break;
      if (!warned) {
        warned = true;
        const results = pending.reduce((n, w) => n + (held.get(w)?.count ?? 0), 0);
        log.warn(
          { event: 'shutdown.waiting', workers: pending, results, timeout },
          `waiting up to ${timeout}s for ${results || 'the'} result(s) held only by ${pending.join(', ')} to be released or moved`,
        );
      }
      await firstValueFrom(timer(Math.min(SHUTDOWN_RETRY_SECONDS, Math.max(0, deadline - this.now())) * 1000, this.kernel.rxScheduler));
    }
    if (pending.length) {
      // Whatever they hold alone goes with them. Where the scheduler could not say how much, the
      // loss is still reported (and the exit code says so), its size as unknown.
      const keys = pending.flatMap((w) => held.get(w)?.keys ?? []).slice(0, 20);
      const count = pending.reduce((n, w) => n + (held.get(w)?.count ?? 0), 0);
      const exact = pending.every((w) => held.has(w));
      summary.lost = { count, keys, workers: [...pending], exact };
      log.warn(
        { event: 'shutdown.results-lost', workers: pending, results: count, exact, keys },
        `stopping ${pending.length} worker(s) after ${timeout}s still holding ${exact ? count : count ? `at least ${count}` : 'an unknown number of'} result(s) nothing else holds: they are lost`,
      );
    }
  }


  private async step(what: string, f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      this.kernel.logger.error({ event: 'shutdown.failed', what, error: describeError(e) }, 'shutdown step failed');
    }
  }
}
