import type { DecisionRecord } from '../DecisionRecord.js';
import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import type { WorkersToCloseView } from '../contracts/WorkersToCloseView.js';
import { clampTarget } from './clampTarget.js';
import { recommend } from './recommend.js';

export interface DecideTickInput {
  snapshot: SchedulerSnapshot;
  heuristic: ScalingHeuristic;
  strategy: WorkersToClose;
  workerKey: WorkerKey;
  minimum: number;
  maximum: number;
  waitCount: number;
  /** A run-time override of the heuristic's target duration (`HeuristicContext.targetDuration`). */
  targetDuration?: number;
  /** Defaults to the snapshot's worker names. */
  plan?: readonly string[];
  /** Defaults to the snapshot's worker names. */
  requested?: readonly string[];
  closeCounts?: Readonly<Record<string, number>>;
  /**
   * Guard rails between the clamp and the hysteresis (docs/guard-rails.md): given the clamped
   * target, returns the one to act on. Absent: the clamped target is acted on (Dask).
   */
  guard?: (safeTarget: number) => number;
}

/**
 * One whole decision, pure: heuristic target, clamp, the strategy's proposal, hysteresis.
 * The adaptive loop and `ebbtide decide` both call this, so they cannot disagree.
 */
export function decideTick(input: DecideTickInput): DecisionRecord {
  const { snapshot, heuristic, strategy, workerKey } = input;
  const observedCount = snapshot.workers.length;
  const ctx = { minimum: input.minimum, maximum: input.maximum, ...(input.targetDuration !== undefined ? { targetDuration: input.targetDuration } : {}) };
  const { target, explanation } = heuristic.target(snapshot, ctx);
  const clamped = clampTarget(target, input.minimum, input.maximum);
  const { cappedBy } = clamped;
  const safeTarget = input.guard ? input.guard(clamped.safeTarget) : clamped.safeTarget;

  // A store-made snapshot carries its closing order: strategies that can walk it read only what
  // they close, and membership is asked of the store instead of a set built per tick.
  let order: WorkersToCloseView | undefined | null = null;
  const closingOrder = () => (order === null ? (order = snapshot.closingOrder?.(workerKey)) : order);
  const memo = new Map<number, string[]>();
  const proposal = (t: number): string[] => {
    let r = memo.get(t);
    if (!r) {
      const view = strategy.selectFromView ? closingOrder() : undefined;
      r = view ? strategy.selectFromView!(view, { target: t, key: workerKey }) : strategy.select(snapshot, { target: t, key: workerKey });
      memo.set(t, r);
    }
    return r;
  };

  const workersToClose = safeTarget < observedCount ? proposal(safeTarget) : [];
  const plan = input.plan ?? snapshot.workers;
  // Requested defaults to the observed names, none of which is missing: nothing to scan then.
  const scan = input.requested !== undefined && safeTarget < plan.length;
  // Membership does not depend on the grouping: the key-less order (the heuristic's) answers it.
  const view = scan ? snapshot.closingOrder?.() : undefined;
  const { recommendation, closeCounts } = recommend({
    target: safeTarget,
    plan,
    requested: input.requested ?? [],
    ...(view ? { isObserved: (name: string) => view.has(name) } : { observed: scan ? snapshot.workers.map((w) => w.name) : [] }),
    closeCounts: input.closeCounts ?? {},
    waitCount: input.waitCount,
    workersToClose: proposal,
  });

  return {
    target,
    safeTarget,
    workersToClose,
    recommendation,
    closeCounts,
    explanation: {
      ...explanation,
      bounds: { minimum: input.minimum, maximum: input.maximum, ...(cappedBy ? { cappedBy } : {}) },
    },
  };
}
