import type { DecisionRecord, GuardEffect, PoolAllocation } from '../DecisionRecord.js';
import type { CapacityLimit } from '../cluster/Cluster.js';
import type { PoolAllocator, PoolView } from '../contracts/PoolAllocator.js';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import type { Recommendation } from '../decide/Recommendation.js';
import { clampTarget } from '../decide/clampTarget.js';
import { recommend } from '../decide/recommend.js';
import { applyGuards } from './applyGuards.js';
import { formatClock } from './formatClock.js';
import type { GuardRails, GuardState } from './GuardRails.js';
import type { PoolConfig } from './PoolConfig.js';
import { type ResourceDemandOptions, resourceDemand } from './resourceDemand.js';
import { scheduledBounds } from './schedule.js';

/** One pool's state as the decision reads it. */
export interface PoolTick {
  config: PoolConfig;
  plan: readonly string[];
  requested: readonly string[];
  isOurs(name: string): boolean;
  capacityLimit?: CapacityLimit;
  guard: GuardState;
}

export interface DecidePoolsInput {
  snapshot: SchedulerSnapshot;
  heuristic: ScalingHeuristic;
  strategy: WorkersToClose;
  workerKey: WorkerKey;
  allocator: PoolAllocator;
  /** Clock seconds. */
  time: number;
  /** The cluster's bounds (`adaptive.minimum/maximum`; `n` and `n` in manual mode). */
  minimum: number;
  maximum: number;
  waitCount: number;
  /** Manual mode (`scale(n)`): no guard rails, no schedules, pool minimums do not hold. */
  manual: boolean;
  /** Clock seconds since which the scheduler cannot be read; absent while it can. */
  blindSince?: number;
  /** Counters of the previous tick, every pool's together (names are unique across pools). */
  closeCounts: Readonly<Record<string, number>>;
  /** The cluster's own rails (`adaptive.*`) and their memory. */
  rails: GuardRails;
  guard: GuardState;
  pools: readonly PoolTick[];
  demand: ResourceDemandOptions;
  /** A run-time override of the target duration (`HeuristicContext.targetDuration`). */
  targetDuration?: number;
}

export interface DecidePoolsOutput {
  record: DecisionRecord;
  /** The cluster rails' memory after this tick. */
  guard: GuardState;
  /** Each pool rails' memory after this tick. */
  poolGuards: Record<string, GuardState>;
}

/** The pool's workers as its strategy sees them: its labels (and `pool`) under the scheduler's own. */
function poolSnapshot(s: SchedulerSnapshot, pool: PoolTick): { snapshot: SchedulerSnapshot; observed: string[] } {
  const workers: WorkerInfo[] = [];
  const extra = { pool: pool.config.name, ...pool.config.labels };
  for (const w of s.workers) if (pool.isOurs(w.name)) workers.push({ ...w, labels: { ...extra, ...w.labels } });
  return { snapshot: { time: s.time, workers, prefixes: s.prefixes }, observed: workers.map((w) => w.name) };
}

/**
 * One decision across pools (docs/pools.md), pure: the heuristic's target for the whole cluster
 * within its bounds (its cron schedule applied) and its guard rails; the resource demand (the
 * heuristic's, or estimated from the snapshot); the allocation plugin spreads the target over
 * the pools (their schedules applied to their bounds, capacity-limited ones held); each pool's
 * guard rails (or, while blind, its blind rule); then Dask's hysteresis inside each pool, with
 * the workers-to-close strategy and worker key seeing only that pool's workers.
 *
 * The record's `recommendation` sums the pools': `down` with every pool's firm workers when any
 * pool shrinks, else `up` with the cluster's plan after the ups; each pool's own is in
 * `allocation`. A tick can grow one pool and shrink another (demand returning to a cheap pool).
 */
export function decidePools(input: DecidePoolsInput): DecidePoolsOutput {
  const { snapshot, time, manual, pools } = input;
  const blind = input.blindSince !== undefined;
  const guards: GuardEffect[] = [];
  const rulesApply = !manual && !blind;

  // 1. The cluster's target, within its (scheduled) bounds and through its own rails.
  const bounds = rulesApply ? scheduledBounds(input.rails.schedule, time, input.minimum, input.maximum) : { minimum: input.minimum, maximum: input.maximum, effects: [] };
  guards.push(...bounds.effects);
  const td = input.targetDuration;
  const heuristic = input.heuristic.target(snapshot, { minimum: bounds.minimum, maximum: bounds.maximum, ...(td !== undefined ? { targetDuration: td } : {}) });
  const clamped = clampTarget(heuristic.target, bounds.minimum, bounds.maximum);
  const plan = pools.reduce((n, p) => n + p.plan.length, 0);
  let clusterTarget = clamped.safeTarget;
  let clusterGuard = input.guard;
  if (rulesApply) {
    const g = applyGuards({ desired: clamped.safeTarget, current: plan, time, rails: input.rails, state: input.guard });
    clusterTarget = g.target;
    clusterGuard = g.state;
    guards.push(...g.effects);
  }

  // 2. Its share per pool.
  const demand = heuristic.demand ?? resourceDemand(snapshot, td !== undefined ? { ...input.demand, targetDuration: td } : input.demand);
  const poolEffects = new Map<string, GuardEffect[]>();
  const views: PoolView[] = pools.map((p, index) => {
    const c = p.config;
    const b = rulesApply ? scheduledBounds(c.rails.schedule, time, c.minimum, c.maximum, c.name) : { minimum: manual ? 0 : c.minimum, maximum: c.maximum, effects: [] };
    poolEffects.set(c.name, [...b.effects]);
    return {
      name: c.name,
      index,
      minimum: b.minimum,
      maximum: b.maximum,
      cost: c.cost,
      priority: c.priority,
      resources: c.resources,
      labels: c.labels,
      current: p.plan.length,
      ...(p.capacityLimit ? { capacityLimited: { ...p.capacityLimit } } : {}),
    };
  });
  const allocation = input.allocator.allocate({ time, target: clusterTarget, maximum: bounds.maximum, demand, pools: views });
  const shares = new Map(allocation.pools.map((s) => [s.pool, s]));

  // 3. Each pool: its rails (or its blind rule), then Dask's hysteresis among its own workers.
  const poolGuards: Record<string, GuardState> = {};
  const entries: PoolAllocation[] = [];
  const closeCounts: Record<string, number> = {};
  const workersToClose: string[] = [];
  const firm: string[] = [];
  let ups = 0;
  let upTotal = 0;
  const byName = new Map(pools.map((p) => [p.config.name, p]));
  const order = [...allocation.pools.map((s) => s.pool), ...pools.map((p) => p.config.name).filter((n) => !shares.has(n))];
  for (const name of order) {
    const p = byName.get(name);
    if (!p) continue;
    const c = p.config;
    const share = shares.get(name);
    const allowed = share?.allowed ?? p.plan.length;
    const effects = poolEffects.get(name)!;
    if (p.capacityLimit && share && share.wanted > share.allowed) {
      effects.push({
        guard: 'capacity',
        effect: `pool ${name} skipped: capacity-limited until ${formatClock(p.capacityLimit.until)} after ${p.capacityLimit.failures} failed start${p.capacityLimit.failures === 1 ? '' : 's'}`,
        pool: name,
        from: share.wanted,
        to: share.allowed,
      });
    }
    let target = allowed;
    poolGuards[name] = p.guard;
    if (blind) {
      const rule = c.rails.blind;
      const since = input.blindSince!;
      if (rule.policy === 'scale-to' && time - since >= rule.after) {
        target = Math.max(p.plan.length, rule.workers);
        effects.push({
          guard: 'blind',
          effect: `blind since ${formatClock(since)}: scale-to ${rule.workers}${rule.workers < p.plan.length ? ` (keeps its ${p.plan.length}: a cluster it cannot see is never shrunk)` : ''}`,
          pool: name,
          from: p.plan.length,
          to: target,
        });
      } else target = p.plan.length;
    } else if (!manual) {
      const g = applyGuards({ desired: allowed, current: p.plan.length, time, rails: c.rails, state: p.guard, pool: name });
      target = g.target;
      poolGuards[name] = g.state;
      effects.push(...g.effects);
    }
    guards.push(...effects);

    const { snapshot: own, observed } = poolSnapshot(snapshot, p);
    const memo = new Map<number, string[]>();
    const proposal = (t: number): string[] => {
      let r = memo.get(t);
      if (!r) {
        r = input.strategy.select(own, { target: t, key: input.workerKey });
        memo.set(t, r);
      }
      return r;
    };
    const counts: Record<string, number> = {};
    for (const n of p.plan) if (input.closeCounts[n] !== undefined) counts[n] = input.closeCounts[n]!;
    for (const n of observed) if (input.closeCounts[n] !== undefined) counts[n] = input.closeCounts[n]!;
    // Blind: nothing connected is closed (retiring needs the scheduler).
    const r = recommend({ target, plan: p.plan, requested: p.requested, observed, closeCounts: counts, waitCount: input.waitCount, workersToClose: proposal });
    let rec: Recommendation = r.recommendation;
    if (blind && rec.status === 'down') rec = { status: 'same' };
    Object.assign(closeCounts, r.closeCounts);
    if (target < observed.length) workersToClose.push(...proposal(target));
    if (rec.status === 'down') firm.push(...rec.workers);
    if (rec.status === 'up') {
      ups++;
      upTotal += rec.n;
    } else upTotal += p.plan.length;
    entries.push({
      pool: name,
      wanted: share?.wanted ?? allowed,
      allowed,
      ...(share?.reason ? { reason: share.reason } : {}),
      plan: p.plan.length,
      target,
      cost: c.cost,
      recommendation: rec,
    });
  }

  const recommendation: Recommendation = firm.length ? { status: 'down', workers: firm } : ups ? { status: 'up', n: upTotal } : { status: 'same' };
  const record: DecisionRecord = {
    target: heuristic.target,
    safeTarget: entries.reduce((n, e) => n + (e.target ?? 0), 0),
    workersToClose,
    recommendation,
    closeCounts,
    explanation: {
      ...heuristic.explanation,
      bounds: { minimum: bounds.minimum, maximum: bounds.maximum, ...(clamped.cappedBy ? { cappedBy: clamped.cappedBy } : {}) },
      clusterTarget,
      ...(Object.keys(demand).length ? { demand } : {}),
      ...(allocation.explanation ? { allocation: allocation.explanation } : {}),
    },
    allocation: entries,
  };
  if (guards.length) record.guards = guards;
  return { record, guard: clusterGuard, poolGuards };
}
