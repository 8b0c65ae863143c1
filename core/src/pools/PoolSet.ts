import { type Observable, type SchedulerLike, merge } from 'rxjs';
import type { DecisionOutcome, DecisionRecord, GuardEffect } from '../DecisionRecord.js';
import { type AdoptionResult, Cluster, type CapacityLimit, type ClusterOptions, type ScaleResult } from '../cluster/Cluster.js';
import type { ClusterLike } from '../cluster/ClusterLike.js';
import type { PoolAllocator } from '../contracts/PoolAllocator.js';
import type { ResourceBackend } from '../contracts/ResourceBackend.js';
import { type DecideTickInput, decideTick } from '../decide/decideTick.js';
import { EbbtideError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/Logger.js';
import { applyGuards, recordChange } from './applyGuards.js';
import { decidePools } from './decidePools.js';
import { formatClock } from './formatClock.js';
import { EMPTY_GUARD_STATE, type GuardRails, type GuardState } from './GuardRails.js';
import { DEFAULT_POOL, type PoolConfig } from './PoolConfig.js';
import { PoolBackends } from './PoolBackends.js';
import { poolWorkerEnv } from './poolWorkerEnv.js';
import type { ResourceDemandOptions } from './resourceDemand.js';
import { scheduledBounds } from './schedule.js';

/** One pool: its config, its bookkeeping over its backend, its rails' memory. */
interface Pool {
  config: PoolConfig;
  cluster: Cluster;
  backend: ResourceBackend;
  guard: GuardState;
}

export interface PoolSetOptions {
  /** `cluster.name`. */
  cluster: string;
  /**
   * Each pool with its backend. Without `pools:` in the config, one entry: the pool `default`
   * (`single`), whose workers keep the names `{cluster}-{i}`.
   */
  pools: Array<{ config: PoolConfig; backend: ResourceBackend }>;
  /** True for the one implicit pool `default` (no `pools:`): no allocation step, today's records. */
  single: boolean;
  /** The cluster's own rails (`adaptive.*`). */
  rails: GuardRails;
  /** Required with `pools:`. */
  allocator?: PoolAllocator;
  demand: ResourceDemandOptions;
  /** What every pool's `Cluster` shares; `nthreads`/`memoryLimit` are the defaults a pool may override. */
  clusterOptions: Omit<ClusterOptions, 'name' | 'pool'>;
}

/** What the loop tells a decision besides `decideTick`'s input. */
export interface PoolTickContext {
  time: number;
  manual: boolean;
  /** Clock seconds since which the scheduler cannot be read; absent while it can. */
  blindSince?: number;
}

/**
 * The cluster as a set of pools (docs/pools.md): one `Cluster` (Dask's `SpecCluster`
 * bookkeeping, naming, adoption, capacity backoff) per pool over the pool's own backend, the
 * guard rails' memory, and the decision across them. It is what the loop and the autoscaler see
 * as their cluster (`ClusterLike`): names are routed to their pool, lists are the pools' joined.
 *
 * Also used, with `single`, for a config without `pools:` that sets guard rails: the one pool
 * `default` then decides exactly as `decideTick` does, with the rails between the clamp and the
 * hysteresis.
 */
export class PoolSet implements ClusterLike {
  private readonly pools: Pool[];
  private clusterGuard: GuardState = EMPTY_GUARD_STATE;
  /** Every pool's backend as one. */
  readonly backend: ResourceBackend;
  readonly backendFailed$: Observable<unknown>;
  private observedList: readonly string[] = [];

  constructor(
    private readonly options: PoolSetOptions,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger = silentLogger,
  ) {
    if (!options.single && !options.allocator) throw new EbbtideError('CONFIG_INVALID', 'pools: an allocation is needed to spread the target over pools', { key: 'allocation' });
    this.pools = options.pools.map(({ config, backend }) => {
      const own = options.single ? undefined : { name: config.name, resources: config.resources, labels: config.labels, env: poolWorkerEnv(config) };
      const cluster = new Cluster(
        backend,
        {
          ...options.clusterOptions,
          name: options.single ? options.cluster : `${options.cluster}-${config.name}`,
          nthreads: config.nthreads ?? options.clusterOptions.nthreads,
          memoryLimit: config.memoryLimit ?? options.clusterOptions.memoryLimit,
          ...(own ? { pool: own } : {}),
        },
        rx,
        options.single ? logger : logger.child({ pool: config.name }),
      );
      return { config, cluster, backend, guard: EMPTY_GUARD_STATE };
    });
    this.backend =
      options.single && this.pools[0] ? this.pools[0].backend : new PoolBackends(this.pools.map((p) => ({ pool: p.config.name, backend: p.backend, isOurs: (n: string) => p.cluster.isOurs(n) })));
    this.backendFailed$ = merge(...this.pools.map((p) => p.cluster.backendFailed$));
  }

  /** The pools' names, in config order. */
  get names(): string[] {
    return this.pools.map((p) => p.config.name);
  }

  /** One pool's bookkeeping. */
  clusterOf(pool: string): Cluster | undefined {
    return this.pools.find((p) => p.config.name === pool)?.cluster;
  }

  private now(): number {
    return this.rx.now() / 1000;
  }

  // ------------------------------------------------------------------ ClusterLike

  get plan(): readonly string[] {
    return this.pools.length === 1 ? this.pools[0]!.cluster.plan : this.pools.flatMap((p) => p.cluster.plan);
  }

  get requested(): readonly string[] {
    return this.pools.length === 1 ? this.pools[0]!.cluster.requested : this.pools.flatMap((p) => p.cluster.requested);
  }

  get observed(): readonly string[] {
    return this.options.single ? this.pools[0]!.cluster.observed : this.observedList;
  }

  /** With pools each pool's own limit is handled by the allocation (spill-over); a sole default pool's by the loop. */
  get capacityLimit(): CapacityLimit | undefined {
    return this.options.single ? this.pools[0]!.cluster.capacityLimit : undefined;
  }

  isOurs(worker: string): boolean {
    return this.pools.some((p) => p.cluster.isOurs(worker));
  }

  poolOf(worker: string): string | null {
    for (const p of this.pools) if (p.cluster.isOurs(worker)) return p.config.name;
    return null;
  }

  private poolFor(worker: string): Pool | undefined {
    return this.pools.find((p) => p.cluster.isOurs(worker));
  }

  /** Each pool adopts its own workers, from its backend (under its own lock) and from the scheduler. */
  async adopt(connected: readonly string[]): Promise<AdoptionResult> {
    const out: AdoptionResult = { adopted: [], fromBackend: [], fromScheduler: [] };
    for (const p of this.pools) {
      const r = await p.cluster.adopt(connected);
      out.adopted.push(...r.adopted);
      out.fromBackend.push(...r.fromBackend);
      out.fromScheduler.push(...r.fromScheduler);
    }
    return out;
  }

  observe(names: readonly string[]): void {
    this.observedList = names;
    if (this.options.single) {
      this.pools[0]!.cluster.observe(names);
      return;
    }
    for (const p of this.pools) p.cluster.observe(names.filter((n) => p.cluster.isOurs(n)));
  }

  rebuild(): string[] {
    return this.pools.flatMap((p) => p.cluster.rebuild());
  }

  async reconcile(): Promise<ScaleResult> {
    return this.all(this.pools.map((p) => () => p.cluster.reconcile()));
  }

  /** With one pool, its `scale`; with several, a count means nothing without an allocation (the loop calls `act`). */
  async scale(n: number): Promise<ScaleResult> {
    if (this.pools.length === 1) return this.pools[0]!.cluster.scale(n);
    throw new EbbtideError('INPUT_INVALID', 'a cluster of several pools is scaled through its decision (PoolSet.act), not to a bare count');
  }

  async scaleDown(names: readonly string[], options: { retired?: boolean } = {}): Promise<ScaleResult> {
    const groups = new Map<Pool, string[]>();
    for (const n of names) {
      const p = this.poolFor(n);
      if (!p) continue;
      groups.set(p, [...(groups.get(p) ?? []), n]);
    }
    return this.all([...groups].map(([p, list]) => () => p.cluster.scaleDown(list, options)));
  }

  async close(options: { keep?: boolean } = {}): Promise<void> {
    await this.all(
      this.pools.map((p) => async () => {
        await p.cluster.close(options);
        return { started: [], stopped: [] };
      }),
    );
  }

  /** Runs every step at once (one per pool); every one finishes; the first failure is rethrown after. */
  private async all(steps: ReadonlyArray<() => Promise<ScaleResult>>): Promise<ScaleResult> {
    const results = await Promise.allSettled(steps.map((f) => f()));
    const out: ScaleResult = { started: [], stopped: [] };
    for (const r of results) {
      if (r.status === 'fulfilled') {
        out.started.push(...r.value.started);
        out.stopped.push(...r.value.stopped);
      }
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  // ------------------------------------------------------------------ deciding

  /**
   * One tick's decision. `input` is what the loop would give `decideTick` (its `plan`,
   * `requested` and `closeCounts` are this set's own).
   */
  decide(input: DecideTickInput, ctx: PoolTickContext): DecisionRecord {
    return this.options.single ? this.decideSingle(input, ctx) : this.decideMany(input, ctx);
  }

  private decideSingle(input: DecideTickInput, ctx: PoolTickContext): DecisionRecord {
    const pool = this.pools[0]!;
    const rails = this.options.rails;
    const rulesApply = !ctx.manual && ctx.blindSince === undefined;
    const guards: GuardEffect[] = [];
    const bounds = rulesApply ? scheduledBounds(rails.schedule, ctx.time, input.minimum, input.maximum) : { minimum: input.minimum, maximum: input.maximum, effects: [] };
    guards.push(...bounds.effects);
    const current = pool.cluster.plan.length;
    const record = decideTick({
      ...input,
      minimum: bounds.minimum,
      maximum: bounds.maximum,
      guard: (t) => {
        if (ctx.blindSince !== undefined) {
          const b = rails.blind;
          // `hold`: the loop holds whatever this says, as without rails.
          if (b.policy !== 'scale-to' || ctx.time - ctx.blindSince < b.after) return t;
          const to = Math.max(current, b.workers);
          guards.push({
            guard: 'blind',
            effect: `blind since ${formatClock(ctx.blindSince)}: scale-to ${b.workers}${b.workers < current ? ` (keeps its ${current}: a cluster it cannot see is never shrunk)` : ''}`,
            from: current,
            to,
          });
          return to;
        }
        if (!rulesApply) return t;
        const g = applyGuards({ desired: t, current, time: ctx.time, rails, state: this.clusterGuard });
        this.clusterGuard = g.state;
        guards.push(...g.effects);
        return g.target;
      },
    });
    if (guards.length) record.guards = guards;
    return record;
  }

  private decideMany(input: DecideTickInput, ctx: PoolTickContext): DecisionRecord {
    const out = decidePools({
      snapshot: input.snapshot,
      heuristic: input.heuristic,
      strategy: input.strategy,
      workerKey: input.workerKey,
      allocator: this.options.allocator!,
      time: ctx.time,
      minimum: input.minimum,
      maximum: input.maximum,
      waitCount: input.waitCount,
      manual: ctx.manual,
      ...(ctx.blindSince !== undefined ? { blindSince: ctx.blindSince } : {}),
      closeCounts: input.closeCounts ?? {},
      rails: this.options.rails,
      guard: this.clusterGuard,
      pools: this.pools.map((p) => {
        const limit = p.cluster.capacityLimit;
        return {
          config: p.config,
          plan: p.cluster.plan,
          requested: p.cluster.requested,
          isOurs: (n: string) => p.cluster.isOurs(n),
          ...(limit ? { capacityLimit: limit } : {}),
          guard: p.guard,
        };
      }),
      demand: this.options.demand,
      ...(input.targetDuration !== undefined ? { targetDuration: input.targetDuration } : {}),
    });
    this.clusterGuard = out.guard;
    for (const p of this.pools) p.guard = out.poolGuards[p.config.name] ?? p.guard;
    return out.record;
  }

  // ------------------------------------------------------------------ acting

  /**
   * Acts on a decision: every pool that grows is scaled up (at once, each on its own backend);
   * the workers of every pool that shrinks go through the loop's retire-then-stop path
   * (`loop.down`). A sole default pool is acted on by the loop as without pools (`loop.act`).
   * The changes made are remembered for the guard rails' policies and cooldowns.
   */
  async act(record: DecisionRecord, loop: { act(): Promise<DecisionOutcome>; down(workers: string[]): Promise<DecisionOutcome> }): Promise<DecisionOutcome> {
    const before = new Map(this.pools.map((p) => [p, p.cluster.plan.length]));
    const total = this.plan.length;
    try {
      if (this.options.single) return await loop.act();
      const ups: Array<[Pool, number]> = [];
      const downs: string[] = [];
      for (const a of record.allocation ?? []) {
        const p = this.pools.find((x) => x.config.name === a.pool);
        if (!p || !a.recommendation) continue;
        if (a.recommendation.status === 'up') ups.push([p, a.recommendation.n]);
        else if (a.recommendation.status === 'down') downs.push(...a.recommendation.workers);
      }
      const { started } = await this.all(ups.map(([p, n]) => () => p.cluster.scale(n)));
      if (ups.length) {
        this.logger.info(
          { event: 'scale.up', tick: record.tick, from: total, to: this.plan.length, started, pools: Object.fromEntries(ups.map(([p, n]) => [p.config.name, n])) },
          'up',
        );
      }
      if (!downs.length) return { status: 'scaled-up', started };
      const outcome = await loop.down(downs);
      return started.length ? { ...outcome, started } : outcome;
    } finally {
      const time = this.now();
      for (const p of this.pools) p.guard = recordChange(p.guard, p.config.rails, time, p.cluster.plan.length - before.get(p)!);
      this.clusterGuard = recordChange(this.clusterGuard, this.options.rails, time, this.plan.length - total);
    }
  }
}

/** The implicit pool of a config without `pools:`: `backend` with `adaptive.minimum/maximum`. */
export function defaultPool(backend: PoolConfig['backend'], minimum: number, maximum: number, rails: GuardRails): PoolConfig {
  return { name: DEFAULT_POOL, backend, minimum, maximum, cost: 1, priority: 0, resources: {}, labels: {}, rails, ownBackend: false };
}
