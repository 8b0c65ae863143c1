import { Autoscaler, type ConfigSources, type DecisionRecord, EbbtideError, type EbbtidePlugin, Kernel, type Logger, parseBytes, parseDuration, poolSettings } from '@ebbtide/core';
import { type SimulatorOptions, simulatorOptions } from './config.js';
import { type SeriesPoint, SeriesRecorder, roundMs, waitStats } from './metrics.js';
import { simulatorPlugin } from './plugin/simulatorPlugin.js';
import { SimulatedBackend } from './sim/SimulatedBackend.js';
import { SimulatedScheduler } from './sim/SimulatedScheduler.js';
import { StaticDriver, staticDriverApplies } from './staticDriver.js';
import { GuardCounter, type PoolMetrics, type SimulatedPoolSettings, poolMetrics, poolSettingsOf, restingSize, simulatedPoolBackends, sortedCounts } from './simulatedPools.js';
import { VirtualClock } from './sim/VirtualClock.js';
import { type StartupDelay, formatStartupDelay, parseStartupDelay } from './sim/StartupDelay.js';
import { type Trace, validateTrace } from './trace/Trace.js';

/** Simulator settings given in code; each wins over the same `simulator.*` config key. */
export interface SimulatorOverrides {
  /** `"5s"`, `"uniform:2s:10s"`, `"exp:5s"`, seconds, or a parsed `StartupDelay`. */
  startupDelay?: string | number | StartupDelay;
  /** Bytes per second (or a size string such as `"100MB"`), > 0. */
  bandwidth?: number | string;
  seed?: number;
  /** Seconds between `task.executing` reports; 0 = none. */
  heartbeatInterval?: number;
  /** Virtual seconds after which the run stops even with work left; 0 = none. */
  horizon?: number;
  /** Seconds to wait, once all work is released, for the cluster to shrink to the minimum. */
  settleTimeout?: number;
  /** Most points in `series` (default 2,000). */
  seriesPoints?: number;
}

export interface SimulateOptions {
  trace: Trace;
  /**
   * Plugins registered before configured ones — at least one providing the selected heuristic,
   * workers-to-close and worker key (e.g. `@ebbtide/plugin-dask`). The simulator plugin is added
   * when no plugin named `simulator` is in the list.
   */
  plugins: readonly EbbtidePlugin[];
  /**
   * Defaults for the roles the simulated run selects (`{ heuristic: 'dask', ... }`), below the
   * config sources: the core names no implementation, the caller does.
   */
  defaults?: Record<string, unknown>;
  /**
   * Config sources for the kernel (file, flags, env, preset). `env` defaults to `{}` so the
   * caller's environment does not leak into a reproducible run; pass `process.env` to honour it.
   * `scheduler.type` and `backend.type` are ignored: the simulated scheduler and backend fill those roles.
   */
  sources?: ConfigSources;
  sim?: SimulatorOverrides;
  logger?: Logger;
  /** Called with every tick's decision record, in order (e.g. to write a recording). */
  onDecision?: (record: DecisionRecord) => void;
}

export interface SimulationMetrics {
  /** Sum over workers of start request → exit, in seconds (what a cloud bill counts). */
  workerSeconds: number;
  /** Most workers connected at once. */
  peakWorkers: number;
  /** Task wait (submit → first start), seconds. */
  meanWait: number;
  p95Wait: number;
  maxWait: number;
  /** First submit → last completion, seconds. */
  makespan: number;
  /** Ticks whose outcome was `scaled-up`. */
  scaleUps: number;
  /** Ticks whose outcome was `scaled-down` or `partial`. */
  scaleDowns: number;
  /** Ticks whose outcome was `failed`. */
  failedTicks: number;
  /** Workers the backend was asked to start. */
  workersStarted: number;
  /** Bytes copied by retirements. */
  bytesMoved: number;
  /** Results lost with a worker that left without retirement. */
  resultsLost: number;
  /** Tasks in the trace. */
  tasks: number;
}

/** Why a simulation stopped. */
export type SimulationEnd = 'drained' | 'settle-timeout' | 'horizon' | 'stalled';

export interface SimulationResult {
  trace: string;
  metrics: SimulationMetrics;
  /** One point per tick, downsampled to at most `seriesPoints` (bucket maxima). */
  series: SeriesPoint[];
  /** Decision records (ticks) emitted. */
  decisions: number;
  /**
   * `drained`: every task done and released and the cluster back at `adaptive.minimum`;
   * `settle-timeout`: done, but the cluster did not shrink in time; `horizon`: stopped at the
   * horizon; `stalled`: nothing left to happen (e.g. `adaptive.interval` 0) with work left.
   */
  endedBy: SimulationEnd;
  /** Virtual seconds at the end. */
  endTime: number;
  /**
   * With `pools:` only: each pool's worker-seconds, peak and cost (`cost` × worker-hours), in
   * config order. A config without pools has none of `pools`, `cost` (nor `settings.pools`).
   */
  pools?: Record<string, PoolMetrics>;
  /** With `pools:`: the pools' costs together. */
  cost?: number;
  /** Ticks in which each of the cluster's own guard rails (`adaptive.*`) changed the outcome; absent when none did. */
  guards?: Record<string, number>;
  /** The settings the run used. */
  settings: {
    minimum: number;
    maximum: number | 'inf';
    interval: number;
    waitCount: number;
    targetDuration: number;
    nthreads: number;
    memoryLimit: number;
    startupDelay: string;
    bandwidth: number;
    seed: number;
    heartbeatInterval: number;
    /** With `pools:`: each pool's bounds, cost, startup delay and simulated capacity. */
    pools?: SimulatedPoolSettings[];
  };
}

function resolveOverrides(base: SimulatorOptions, o: SimulatorOverrides = {}): SimulatorOptions {
  const out = { ...base };
  if (o.startupDelay !== undefined) out.startupDelay = parseStartupDelay(o.startupDelay, 'sim.startupDelay');
  if (o.bandwidth !== undefined) {
    const b = parseBytes(o.bandwidth);
    if (b === undefined || !(b > 0)) throw new EbbtideError('INPUT_INVALID', `sim.bandwidth: expected bytes per second > 0 such as 1e8 or "100MB", got ${JSON.stringify(o.bandwidth)}`);
    out.bandwidth = b;
  }
  if (o.seed !== undefined) out.seed = o.seed;
  for (const key of ['heartbeatInterval', 'horizon', 'settleTimeout'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    const s = parseDuration(v);
    if (s === undefined) throw new EbbtideError('INPUT_INVALID', `sim.${key}: expected seconds >= 0, got ${JSON.stringify(v)}`);
    out[key] = s;
  }
  return out;
}

/** Lets every promise continuation that is ready run (one macrotask turn drains all microtasks). */
function drainPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Replays a trace through the real kernel, the real plugins, the real `Cluster` and `Adaptive`
 * loop, with a `SimulatedScheduler` and `SimulatedBackend` on a `VirtualClock` (virtual-time
 * RxJS scheduler) given to the kernel as its `rxScheduler`.
 *
 * Time is driven like this: run the actions due at the earliest scheduled virtual time
 * (`clock.runUntil(clock.nextTime)`), then let promise continuations run (a tick that
 * scales awaits the cluster and the scheduler), and repeat until the trace is done, every result
 * released and the cluster back at `adaptive.minimum` (or the horizon or settle timeout).
 *
 * @example
 * ```ts
 * const result = await simulate({ trace: generateTrace('interactive'), plugins: [daskPlugin] });
 * console.log(result.metrics.workerSeconds, result.metrics.p95Wait);
 * ```
 * @throws EbbtideError `CONFIG_*`/`PLUGIN_*` from the kernel, `INPUT_INVALID` for an invalid
 *   trace or bad overrides.
 */
export function simulate(options: SimulateOptions): Promise<SimulationResult> {
  return run(options);
}

/**
 * Traces already checked, with the tasks array and length they had: the static baselines replay
 * one trace a dozen times, and checking 100k tasks (unique keys) each time cost more than a run.
 */
const checked = new WeakMap<object, { tasks: unknown; length: number }>();

function checkedTrace(value: Trace): Trace {
  const seen = checked.get(value);
  if (seen && seen.tasks === value.tasks && seen.length === value.tasks.length) return value;
  const trace = validateTrace(value);
  checked.set(trace, { tasks: trace.tasks, length: trace.tasks.length });
  return trace;
}

/** `simulate`, or with `staticSize` a static cluster's run (exactly without the loop where `staticDriverApplies`). */
async function run(options: SimulateOptions, staticSize?: number): Promise<SimulationResult> {
  // Checked up front: the scheduler replays tasks in order and assumes unique keys.
  const trace = checkedTrace(options.trace);
  const sources = options.sources ?? {};
  const plugins = options.plugins.some((p) => p.name === simulatorPlugin.name) ? [...options.plugins] : [...options.plugins, simulatorPlugin as EbbtidePlugin];
  const clock = new VirtualClock();
  const kernel = await Kernel.create({
    builtins: plugins,
    ...(options.defaults ? { defaults: options.defaults } : {}),
    sources: { ...sources, env: sources.env ?? {} },
    rxScheduler: clock,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const config = kernel.config;
  const sim = resolveOverrides(simulatorOptions(config), options.sim);

  const scheduler = new SimulatedScheduler(trace, { bandwidth: sim.bandwidth, heartbeatInterval: sim.heartbeatInterval }, clock);
  // With pools: one simulated backend per pool (its own startup delay and capacity); without,
  // the one backend as before pools existed.
  const { pools } = poolSettings(config);
  const poolBackends = simulatedPoolBackends(pools, sim, scheduler, clock);
  const backends: SimulatedBackend[] = pools.length ? [...poolBackends.values()] : [new SimulatedBackend(scheduler, { startupDelay: sim.startupDelay, seed: sim.seed }, clock)];
  const series = new SeriesRecorder(options.sim?.seriesPoints ?? 2000);
  // A static cluster without pools or rails: the same run without ticking the loop (staticDriver.ts).
  const driver =
    staticSize !== undefined && !pools.length && staticDriverApplies(config, staticSize, sim.startupDelay, sim.seed, options.onDecision !== undefined)
      ? new StaticDriver(kernel, staticSize, scheduler, backends[0]!, (p) => series.add(p), clock, sim.horizon > 0 ? sim.horizon * 1000 : Infinity)
      : undefined;
  let auto: Autoscaler | undefined;
  if (driver) await driver.start();
  else auto = await Autoscaler.start(kernel, pools.length ? { scheduler, backends: Object.fromEntries(poolBackends) } : { scheduler, backend: backends[0]! });
  const timerWakes = () => {
    let n = scheduler.timerWakes;
    for (const b of backends) n += b.timerWakes;
    return n;
  };
  const activeCount = () => {
    let n = 0;
    for (const b of backends) n += b.activeCount;
    return n;
  };

  let decisions = 0;
  let scaleUps = 0;
  let scaleDowns = 0;
  let failedTicks = 0;
  const guards = new GuardCounter();
  const poolSet = pools.length ? auto?.pools : undefined;
  const sub = auto?.decisions$.subscribe((r) => {
    // The record the final shutdown emits is not a tick of the simulated run.
    if (r.outcome?.status === 'shutdown') return;
    decisions++;
    const status = r.outcome?.status;
    if (status === 'scaled-up') scaleUps++;
    else if (status === 'scaled-down' || status === 'partial') scaleDowns++;
    else if (status === 'failed') failedTicks++;
    guards.add(r);
    const i = r.inputs;
    series.add({
      t: r.time ?? clock.now() / 1000,
      demand: i ? i.tasksQueued + i.tasksUnrunnable + i.tasksProcessing : 0,
      target: r.target,
      safeTarget: r.safeTarget,
      workers: i?.workers ?? 0,
      // Each pool's connected workers as this tick saw them (its share of `workers`).
      ...(poolSet ? { pools: Object.fromEntries(poolSet.names.map((n) => [n, poolSet.clusterOf(n)!.observed.length])) } : {}),
    });
    options.onDecision?.(r);
  });

  const minimum = config.adaptive.minimum;
  const resting = pools.length ? restingSize(pools, sim, minimum) : minimum;
  const plan = () => (driver ? driver.plan : auto!.cluster.plan.length);
  const atMinimum = () => scheduler.workerCount === resting && plan() === resting && activeCount() === resting;
  const horizonMs = sim.horizon > 0 ? sim.horizon * 1000 : Infinity;
  let endedBy: SimulationEnd;
  let drainedAt: number | undefined;
  try {
    for (;;) {
      const now = clock.now();
      if (scheduler.drained) {
        drainedAt ??= now;
        if (atMinimum()) {
          endedBy = 'drained';
          break;
        }
        if (now - drainedAt >= sim.settleTimeout * 1000) {
          endedBy = 'settle-timeout';
          break;
        }
      }
      const next = clock.nextTime;
      if (next === undefined) {
        endedBy = scheduler.drained ? 'drained' : 'stalled';
        break;
      }
      if (next > horizonMs) {
        clock.runUntil(horizonMs);
        endedBy = 'horizon';
        break;
      }
      const syncBefore = timerWakes();
      const ran = clock.runUntil(next);
      // Only the adaptive loop's actions and retirement copies start or settle promises; a step
      // made only of the simulator's own synchronous timers (task events, worker connects) needs
      // no drain. Skipping it there saves a macrotask turn on most steps.
      if (driver) {
        if (driver.due) await driver.afterStep();
      }
      else if (ran > timerWakes() - syncBefore) await drainPromises();
    }
  } finally {
    if (driver) await driver.shutdown();
    else await auto!.shutdown('simulation finished');
    sub?.unsubscribe();
  }
  if (driver) {
    decisions = driver.ticks;
    scaleUps = driver.scaleUps;
  }

  const stats = scheduler.stats();
  const waits = waitStats(stats.waits);
  const max = config.adaptive.maximum;
  let workerSeconds = 0;
  let workersStarted = 0;
  for (const b of backends) {
    workerSeconds += b.workerSeconds();
    workersStarted += b.workersStarted;
  }
  const perPool = pools.length ? poolMetrics(pools, poolBackends, guards) : undefined;
  const clusterGuards = sortedCounts(guards.cluster);
  return {
    trace: trace.name,
    metrics: {
      workerSeconds: roundMs(workerSeconds),
      peakWorkers: stats.peakWorkers,
      meanWait: roundMs(waits.mean),
      p95Wait: roundMs(waits.p95),
      maxWait: roundMs(waits.max),
      makespan: stats.firstSubmit !== undefined && stats.lastCompletion !== undefined ? roundMs(stats.lastCompletion - stats.firstSubmit) : 0,
      scaleUps,
      scaleDowns,
      failedTicks,
      workersStarted,
      bytesMoved: stats.bytesMoved,
      resultsLost: stats.resultsLost,
      tasks: trace.tasks.length,
    },
    series: series.points(),
    decisions,
    endedBy,
    endTime: roundMs(clock.now() / 1000),
    ...(perPool ? { pools: perPool, cost: roundMs(pools.reduce((n, p) => n + (p.cost * poolBackends.get(p.name)!.workerSeconds()) / 3600, 0)) } : {}),
    ...(clusterGuards ? { guards: clusterGuards } : {}),
    settings: {
      minimum,
      maximum: Number.isFinite(max) ? max : 'inf',
      interval: config.adaptive.interval,
      waitCount: config.adaptive.waitCount,
      targetDuration: config.adaptive.targetDuration,
      nthreads: config.cluster.nthreads,
      memoryLimit: config.cluster.memoryLimit,
      startupDelay: formatStartupDelay(sim.startupDelay),
      bandwidth: sim.bandwidth,
      seed: sim.seed,
      heartbeatInterval: sim.heartbeatInterval,
      ...(pools.length ? { pools: poolSettingsOf(pools, sim) } : {}),
    },
  };
}

/**
 * The same simulation on a static cluster of `size` workers: `adaptive.minimum` and
 * `adaptive.maximum` are both set to `size` (as flags, over every other source), so the real loop
 * scales up to `size` on its first tick and never changes it.
 */
export function staticCluster(options: SimulateOptions, size: number): Promise<SimulationResult> {
  if (!Number.isInteger(size) || size < 0) {
    return Promise.reject(new EbbtideError('INPUT_INVALID', `staticCluster: size must be a whole number >= 0, got ${size}`));
  }
  const sources = options.sources ?? {};
  return run(
    {
      ...options,
      // The size is the clamp, so the heuristic need not look at the work (O(1) per tick).
      sources: { ...sources, flags: { ...sources.flags, heuristic: 'static-baseline', 'adaptive.minimum': String(size), 'adaptive.maximum': String(size) } },
    },
    size,
  );
}

/** The same static run through the real loop, tick by tick (what `staticCluster` does where its shortcut does not apply); for tests that compare the two. */
export function staticClusterThroughLoop(options: SimulateOptions, size: number): Promise<SimulationResult> {
  const sources = options.sources ?? {};
  return run({
    ...options,
    sources: { ...sources, flags: { ...sources.flags, heuristic: 'static-baseline', 'adaptive.minimum': String(size), 'adaptive.maximum': String(size) } },
  });
}
