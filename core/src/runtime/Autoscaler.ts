import { type Observable, type Subscription, firstValueFrom, timer } from 'rxjs';
import { Adaptive } from '../loop/Adaptive.js';
import { Cluster } from '../cluster/Cluster.js';
import { heuristicContext } from '../config/heuristicContext.js';
import type { ResourceBackend } from '../contracts/ResourceBackend.js';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { DecisionRecord } from '../DecisionRecord.js';
import { describeError } from '../errors.js';
import type { Kernel } from '../plugins/Kernel.js';
import { SchedulerStateStore } from '../state/SchedulerStateStore.js';

export interface AutoscalerParts {
  scheduler: SchedulerAdapter;
  backend: ResourceBackend;
}

export interface ShutdownOptions {
  /** Retire the workers ebbtide started before stopping them (external schedulers). */
  retire?: boolean;
  /** Seconds to wait for retirement before stopping anyway. */
  retireTimeout?: number;
}

/**
 * The whole running system for one kernel: the selected scheduler adapter feeding a state store,
 * a cluster over the selected backend, and the adaptive loop between them.
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
  readonly cluster: Cluster;
  readonly adaptive: Adaptive;
  private readonly sub: Subscription;
  private shuttingDown?: Promise<void>;

  private constructor(
    readonly kernel: Kernel,
    readonly scheduler: SchedulerAdapter,
    readonly backend: ResourceBackend,
  ) {
    const config = kernel.config;
    this.store = new SchedulerStateStore({ defaultTaskDurations: config.scheduler.defaultTaskDurations });
    this.sub = scheduler.events$.subscribe((e) => this.store.apply(e));
    this.cluster = new Cluster(
      backend,
      {
        name: config.cluster.name,
        schedulerAddress: () => scheduler.address ?? config.scheduler.address,
        nthreads: config.cluster.nthreads,
        memoryLimit: config.cluster.memoryLimit,
        workerStartTimeout: config.cluster.workerStartTimeout,
        lostWorkerTimeout: config.cluster.lostWorkerTimeout,
      },
      kernel.rxScheduler,
      kernel.logger.child({ component: 'cluster' }),
    );
    this.adaptive = new Adaptive(
      {
        store: this.store,
        scheduler,
        cluster: this.cluster,
        heuristic: kernel.resolve('heuristic'),
        strategy: kernel.resolve('workersToClose'),
        workerKey: kernel.resolve('workerKey'),
        rx: kernel.rxScheduler,
        logger: kernel.logger.child({ component: 'adaptive' }),
      },
      {
        interval: config.adaptive.interval,
        minimum: config.adaptive.minimum,
        maximum: config.adaptive.maximum,
        waitCount: config.adaptive.waitCount,
        context: heuristicContext(config),
      },
    );
  }

  get decisions$(): Observable<DecisionRecord> {
    return this.adaptive.decisions$;
  }

  /**
   * Resolves the scheduler adapter and backend selected by the config (or takes the given
   * ones), starts the scheduler connection and the adaptive loop.
   */
  static async start(kernel: Kernel, parts: Partial<AutoscalerParts> = {}): Promise<Autoscaler> {
    kernel.checkSelections(['scheduler', 'backend']);
    const scheduler = parts.scheduler ?? kernel.resolve('scheduler');
    const backend = parts.backend ?? kernel.resolve('backend');
    const auto = new Autoscaler(kernel, scheduler, backend);
    try {
      await scheduler.start();
    } catch (e) {
      auto.sub.unsubscribe();
      await backend.close().catch(() => undefined);
      throw e;
    }
    auto.adaptive.start();
    return auto;
  }

  /**
   * Stops the loop, then every worker ebbtide started (retiring them first when asked), then the
   * backend and the scheduler connection. Safe to call more than once.
   */
  shutdown(reason: string, options: ShutdownOptions = {}): Promise<void> {
    this.shuttingDown ??= this.doShutdown(reason, options);
    return this.shuttingDown;
  }

  private async doShutdown(reason: string, options: ShutdownOptions): Promise<void> {
    const log = this.kernel.logger;
    this.adaptive.stop(reason);
    const ours = this.cluster.observed.filter((n) => this.cluster.requested.includes(n));
    if (options.retire && ours.length) {
      const timeout = firstValueFrom(timer((options.retireTimeout ?? 10) * 1000, this.kernel.rxScheduler)).then(() => undefined);
      await Promise.race([this.scheduler.retire(ours).catch((e) => log.warn({ event: 'shutdown.retire-failed', error: describeError(e) }, 'retire failed')), timeout]);
    }
    const steps: Array<[string, () => Promise<void>]> = [
      ['cluster', () => this.cluster.close()],
      ['backend', () => this.backend.close()],
      ['scheduler', () => this.scheduler.close()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        log.error({ event: 'shutdown.failed', what, error: describeError(e) }, 'shutdown step failed');
      }
    }
    this.sub.unsubscribe();
    log.info({ event: 'shutdown.done', reason }, 'stopped');
  }
}
