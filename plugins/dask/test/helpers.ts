import {
  type DecisionRecord,
  type Recommendation,
  type SchedulerSnapshot,
  type TaskPrefixInfo,
  type WorkerInfo,
  type WorkerKey,
  clampTarget,
  decideTick,
  recommend,
} from '@ebbtide/core';
import { makePrefix, makeWorker } from '@ebbtide/core/testing';
import { adaptiveTarget } from '../src/adaptiveTarget.js';
import { DaskTargetHeuristic } from '../src/DaskTargetHeuristic.js';
import { DaskWorkersToClose } from '../src/DaskWorkersToClose.js';
import { NoneWorkerKey } from '../src/workerKeys.js';
import { DASK_DEFAULT_SETTINGS, type DaskHeuristicSettings } from '../src/config.js';

/** Dask parses "100 MB" as 10^8 bytes. */
export const MB = 1_000_000;
/** A stand-in for `distributed.system.MEMORY_LIMIT`, the limit `gen_cluster` gives every worker. */
export const SYSTEM_MEMORY = 16 * 1024 ** 3;

/**
 * Dask's defaults for `adaptive_target`: target-duration 5 s, unknown-task-duration 0.5 s and no
 * per-prefix defaults (Dask's shipped defaults only name shuffle/rechunk prefixes no test uses).
 */
export function daskContext(overrides: Partial<DaskHeuristicSettings> = {}): DaskHeuristicSettings {
  return { ...DASK_DEFAULT_SETTINGS, ...overrides };
}

/** The number `adaptive_target()` returns for a snapshot. */
export function targetOf(snapshot: SchedulerSnapshot, ctx: DaskHeuristicSettings = daskContext()): number {
  return adaptiveTarget(snapshot, ctx).target;
}

/** Workers with these names, in this registration order, all with `overrides` (idle by default). */
export function workersNamed(names: readonly string[], overrides: Partial<WorkerInfo> = {}): WorkerInfo[] {
  return names.map((name) => makeWorker(name, overrides));
}

/** A prefix whose duration is learned (`durationAverage`), with queued/unrunnable counts. */
export function learnedPrefix(durationAverage: number, waiting: Partial<Pick<TaskPrefixInfo, 'queued' | 'unrunnable'>> = {}): TaskPrefixInfo {
  return makePrefix({ durationAverage, ...waiting });
}

/**
 * Drives `decideTick` with the Dask plugin's own implementations the way `Adaptive` does between
 * ticks: it carries the close counters over and keeps Dask's log of non-"same" recommendations.
 * The caller supplies each tick's snapshot, so it decides what the cluster looks like after an
 * action (a "down" is only real once the next snapshot lacks those workers).
 */
export class DaskTickLedger {
  closeCounts: Record<string, number> = {};
  /** Dask's `Adaptive.log`: every recommendation that is not "same". */
  readonly log: Recommendation[] = [];
  readonly records: DecisionRecord[] = [];

  constructor(
    readonly options: {
      minimum?: number;
      maximum?: number;
      waitCount?: number;
      context?: DaskHeuristicSettings;
      workerKey?: WorkerKey;
      memoryRatio?: number;
    } = {},
  ) {}

  tick(snapshot: SchedulerSnapshot, sets: { plan?: readonly string[]; requested?: readonly string[] } = {}): DecisionRecord {
    const record = decideTick({
      snapshot,
      heuristic: new DaskTargetHeuristic(this.options.context ?? daskContext()),
      strategy: new DaskWorkersToClose(this.options.memoryRatio !== undefined ? { memoryRatio: this.options.memoryRatio } : {}),
      workerKey: this.options.workerKey ?? new NoneWorkerKey(),
      minimum: this.options.minimum ?? 0,
      maximum: this.options.maximum ?? Infinity,
      waitCount: this.options.waitCount ?? 3,
      closeCounts: this.closeCounts,
      ...(sets.plan ? { plan: sets.plan } : {}),
      ...(sets.requested ? { requested: sets.requested } : {}),
    });
    this.closeCounts = record.closeCounts;
    this.records.push(record);
    if (record.recommendation.status !== 'same') this.log.push(record.recommendation);
    return record;
  }
}

/** A recommendation with its worker list sorted: Dask's "down" list is a set (spec §1.4). */
export function asSet(rec: Recommendation): Recommendation {
  return rec.status === 'down' ? { status: 'down', workers: [...rec.workers].sort() } : rec;
}

/**
 * Dask's test subclass of `AdaptiveCore` (spec §7.1, `MyAdaptiveCore`; `MyAdaptive` in §7.2)
 * rebuilt on core's pure `clampTarget` and `recommend`: `scale_up(n)` sets plan = requested =
 * {0..n-1}, `scale_down(ws)` removes ws from all three sets, `observed` is set by the test, and
 * the workers-to-close strategy defaults to AdaptiveCore's `list(observed)[target:]`.
 */
export class CoreHarness {
  plan: string[] = [];
  requested: string[] = [];
  observed: string[] = [];
  closeCounts: Record<string, number> = {};
  /** Dask's `log`: every recommendation that is not "same". */
  readonly log: Recommendation[] = [];
  /** Targets the strategy was asked about (Dask's `workers_to_close(target)` calls). */
  readonly strategyCalls: number[] = [];

  constructor(
    readonly options: {
      minimum?: number;
      maximum?: number;
      waitCount?: number;
      workersToClose?: (observed: readonly string[], target: number) => string[];
    } = {},
  ) {}

  /** `safe_target()` for a raw target. */
  safeTarget(target: number): number {
    return clampTarget(target, this.options.minimum ?? 0, this.options.maximum ?? Infinity).safeTarget;
  }

  /** One `adapt()`: clamp, recommend, log, act. */
  adapt(target: number): Recommendation {
    const strategy = this.options.workersToClose ?? ((observed, t) => observed.slice(t));
    const { recommendation, closeCounts } = recommend({
      target: this.safeTarget(target),
      plan: this.plan,
      requested: this.requested,
      observed: this.observed,
      closeCounts: this.closeCounts,
      waitCount: this.options.waitCount ?? 3,
      workersToClose: (t) => {
        this.strategyCalls.push(t);
        return strategy(this.observed, t);
      },
    });
    this.closeCounts = closeCounts;
    if (recommendation.status !== 'same') this.log.push(recommendation);
    if (recommendation.status === 'up') {
      this.plan = Array.from({ length: recommendation.n }, (_, i) => String(i));
      this.requested = [...this.plan];
    } else if (recommendation.status === 'down') {
      const gone = new Set(recommendation.workers);
      this.plan = this.plan.filter((w) => !gone.has(w));
      this.requested = this.requested.filter((w) => !gone.has(w));
      this.observed = this.observed.filter((w) => !gone.has(w));
    }
    return recommendation;
  }
}
