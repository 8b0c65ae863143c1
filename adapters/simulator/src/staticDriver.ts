import { type EbbtideConfig, type Kernel, type WorkerSpec, hasGuardRails, poolSettings } from '@ebbtide/core';
import type { SchedulerAction, Subscription } from 'rxjs';
import type { SeriesPoint } from './metrics.js';
import { Random } from './random/Random.js';
import type { SimulatedBackend } from './sim/SimulatedBackend.js';
import type { SimulatedScheduler } from './sim/SimulatedScheduler.js';
import type { VirtualClock } from './sim/VirtualClock.js';
import { type StartupDelay, drawStartupDelay } from './sim/StartupDelay.js';

/**
 * A static cluster's run without the autoscaler (issue 15: the static baselines cost O(events),
 * not O(ticks × workers)). On a static cluster of `size` workers — `adaptive.minimum =
 * adaptive.maximum = size`, the `static-baseline` heuristic — the loop does one thing: its first
 * tick asks for `size` workers, which the cluster starts (`{cluster}-0` …, in order); every later
 * tick decides `same` and acts on nothing. So this driver keeps the same clock, the same
 * simulated scheduler and backend, a tick on the same `interval` that records what the loop's
 * decision record would have shown (demand and connected workers, target 0, safe target `size`),
 * starts the workers after the
 * first tick's step as the cluster does (once the step's synchronous work is done), and shuts
 * down as the autoscaler does. Same inputs, same figures, byte for byte — checked against the
 * real loop by the simulator's tests.
 *
 * Idle stretches cost nothing per tick: a tick that finds nothing else due on the clock before
 * the next one records the ticks up to the next pending action at once (nothing can change the
 * counts before it runs) and re-arms itself at the first tick time after them, where the loop's
 * `interval` would have been — the same times (integer milliseconds added one interval at a
 * time, as the clock adds them), the same place in the clock's order.
 *
 * Only used where that holds (see `staticDriverApplies`); anything else runs the real loop.
 */
export class StaticDriver {
  private readonly names: string[];
  private tickSub?: Subscription;
  private planned = 0;
  private startDue = false;
  /** Ticks run (each one decision record in the real loop). */
  ticks = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly size: number,
    private readonly scheduler: SimulatedScheduler,
    private readonly backend: SimulatedBackend,
    private readonly onTick: (point: SeriesPoint) => void,
    private readonly clock: VirtualClock,
    /** Virtual ms after which the run stops (its last ticks are the ones at or before it). */
    private readonly horizonMs: number,
  ) {
    const config = kernel.config;
    this.names = Array.from({ length: size }, (_, i) => `${config.cluster.name}-${i}`);
  }

  /** Workers in the plan (the cluster's, in the real loop). */
  get plan(): number {
    return this.planned;
  }

  /** As `Autoscaler.start`: the scheduler started, then the loop's timer. */
  async start(): Promise<void> {
    const config = this.kernel.config;
    // The selections a real run resolves, so a bad one fails the same way.
    this.kernel.resolve('heuristic');
    this.kernel.resolve('workersToClose');
    this.kernel.resolve('workerKey');
    await this.scheduler.start();
    // As `interval(period, clock)`: the first tick one period after the start, each next one
    // scheduled from inside the tick, one period on (or, after an idle stretch, later).
    const period = config.adaptive.interval * 1000;
    const tick = (): number => this.tick(period);
    this.tickSub = this.clock.schedule(function (this: SchedulerAction<unknown>) {
      this.schedule(undefined, tick());
    }, period);
  }

  /** The tick due now, and the idle ticks after it; returns the delay to the next one. */
  private tick(period: number): number {
    const now = this.clock.now();
    this.record(now);
    // Integer times only (sums of integers are exact), never the first tick (its start is issued
    // after the step) nor once the work is done (the run may stop before the next tick).
    if (this.ticks === 1 || !Number.isInteger(period) || !Number.isInteger(now) || this.scheduler.drained) return period;
    // This tick is not queued while it runs: the earliest pending action is someone else's.
    const next = this.clock.nextTime;
    if (next === undefined) return period;
    let at = now + period;
    while (at < next && at <= this.horizonMs) {
      this.record(at);
      at += period;
    }
    return at - now;
  }

  private record(ms: number): void {
    const time = ms / 1000;
    this.ticks++;
    // What a store fed by the scheduler's events counts (queued + unrunnable + processing, and the
    // connected workers), read from the scheduler's own model: the same tasks, without the events.
    const s = this.scheduler;
    this.onTick({ t: time, demand: s.queuedCount + s.processingCount, target: 0, safeTarget: this.size, workers: s.workerCount });
    if (this.ticks === 1 && this.size > 0) {
      this.planned = this.size;
      this.startDue = true;
    }
  }

  /** Ticks that scaled up (the first one, when there is a worker to start). */
  get scaleUps(): number {
    return this.ticks > 0 && this.size > 0 ? 1 : 0;
  }

  /** True after the step of the first tick: `afterStep` has the start to issue. */
  get due(): boolean {
    return this.startDue;
  }

  /** After each clock step: the first tick's start, as the cluster issues it once the step is done. */
  async afterStep(): Promise<void> {
    if (!this.startDue) return;
    this.startDue = false;
    const config = this.kernel.config;
    const specs: WorkerSpec[] = this.names.map((name) => ({
      name,
      scheduler: this.scheduler.address ?? config.scheduler.address,
      nthreads: config.cluster.nthreads,
      memoryLimit: config.cluster.memoryLimit,
    }));
    await this.backend.start(specs);
  }

  /** As the autoscaler's shutdown: the timer stops, the requested workers are stopped, the backend and the scheduler closed. */
  async shutdown(): Promise<void> {
    this.tickSub?.unsubscribe();
    if (this.backend.workersStarted > 0) await this.backend.stop([...this.names]);
    await this.backend.close();
    await this.scheduler.close();
  }
}

/**
 * Whether a static run of `size` workers can skip the loop exactly: no pools or guard rails, no
 * early tick, a positive interval, no decision records asked for, and every worker connecting
 * before `cluster.workerStartTimeout` (the startup delays are drawn here as the backend will draw
 * them, from the same seed) — else the cluster would give up on one and start another.
 */
export function staticDriverApplies(config: EbbtideConfig, size: number, delay: StartupDelay, seed: number, wantsRecords: boolean): boolean {
  if (wantsRecords || !(config.adaptive.interval > 0)) return false;
  const { pools, rails } = poolSettings(config);
  if (pools.length || hasGuardRails(rails)) return false;
  const early = (config.adaptive as { earlyTick?: number }).earlyTick;
  if (early !== undefined && early !== 0) return false;
  const random = new Random(seed);
  for (let i = 0; i < size; i++) if (!(drawStartupDelay(delay, random) < config.cluster.workerStartTimeout)) return false;
  return true;
}
