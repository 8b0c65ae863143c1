import { type DecisionRecord, EbbtideError, type PoolConfig } from '@ebbtide/core';
import type { SchedulerLike } from 'rxjs';
import type { SimulatorOptions } from './config.js';
import { roundMs } from './metrics.js';
import { SimulatedBackend } from './sim/SimulatedBackend.js';
import type { SimulatedScheduler } from './sim/SimulatedScheduler.js';
import { formatStartupDelay } from './sim/StartupDelay.js';

/** One pool's figures in a simulation result (`pools` of `SimulationResult`). */
export interface PoolMetrics {
  /** Σ over the pool's workers of start request → exit, in seconds. */
  workerSeconds: number;
  /** Most of its workers connected at once. */
  peak: number;
  /** `cost` × worker-hours: what the pool's workers cost, in the config's relative price. */
  cost: number;
  /** Workers its backend accepted to start. */
  started: number;
  /** Starts its backend refused for lack of capacity (`simulator.pools.<pool>.capacity`). */
  refused: number;
  /** Ticks in which each of the pool's own guard rails changed its share (`capacity`, `scaleDown.policies`, ...). */
  guards?: Record<string, number>;
}

/** A pool as the run used it (`settings.pools`). */
export interface SimulatedPoolSettings {
  name: string;
  minimum: number;
  maximum: number | 'inf';
  cost: number;
  startupDelay: string;
  capacity?: number;
}

/** FNV-1a of a string: a stable number per pool name. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The seed of a pool's startup-delay draws: `simulator.seed` mixed with the pool's name, so each
 * pool has its own stream and adding or reordering pools leaves the others' draws unchanged.
 */
export function poolSeed(seed: number, pool: string): number {
  return (seed ^ hash(pool)) >>> 0;
}

/**
 * One simulated backend per pool of `pools:`, each with its own startup delay and capacity
 * (`simulator.pools.<pool>`, else `simulator.startupDelay` and no limit).
 *
 * @throws EbbtideError `CONFIG_INVALID` when `simulator.pools` names a pool `pools:` lacks.
 */
export function simulatedPoolBackends(pools: readonly PoolConfig[], sim: SimulatorOptions, scheduler: SimulatedScheduler, rx: SchedulerLike): Map<string, SimulatedBackend> {
  const names = new Set(pools.map((p) => p.name));
  for (const name of Object.keys(sim.pools)) {
    if (!names.has(name)) {
      const known = pools.length ? `the config's pools are ${[...names].join(', ')}` : 'the config has no pools:';
      throw new EbbtideError('CONFIG_INVALID', `simulator.pools.${name}: no pool "${name}" (${known})`, { key: `simulator.pools.${name}` });
    }
  }
  const out = new Map<string, SimulatedBackend>();
  for (const p of pools) {
    const own = sim.pools[p.name] ?? {};
    out.set(
      p.name,
      new SimulatedBackend(
        scheduler,
        { startupDelay: own.startupDelay ?? sim.startupDelay, seed: poolSeed(sim.seed, p.name), ...(own.capacity !== undefined ? { capacity: own.capacity } : {}) },
        rx,
      ),
    );
  }
  return out;
}

/** The pools' settings as the run used them. */
export function poolSettingsOf(pools: readonly PoolConfig[], sim: SimulatorOptions): SimulatedPoolSettings[] {
  return pools.map((p) => {
    const own = sim.pools[p.name] ?? {};
    return {
      name: p.name,
      minimum: p.minimum,
      maximum: Number.isFinite(p.maximum) ? p.maximum : 'inf',
      cost: p.cost,
      startupDelay: formatStartupDelay(own.startupDelay ?? sim.startupDelay),
      ...(own.capacity !== undefined ? { capacity: own.capacity } : {}),
    };
  });
}

/**
 * Workers the pools rest at once the work is gone: each pool's floor, at least
 * `adaptive.minimum` in all, and never more than the pools can hold (their maximums and
 * simulated capacities).
 */
export function restingSize(pools: readonly PoolConfig[], sim: SimulatorOptions, minimum: number): number {
  const floors = pools.reduce((n, p) => n + p.minimum, 0);
  const room = pools.reduce((n, p) => n + Math.min(p.maximum, sim.pools[p.name]?.capacity ?? Infinity), 0);
  return Math.min(Math.max(minimum, floors), room);
}

/**
 * Counts, per decision, each guard rail that changed the outcome (`record.guards`): once per
 * tick and rule, the cluster's own under their name, a pool's under its pool.
 */
export class GuardCounter {
  readonly cluster: Record<string, number> = {};
  readonly byPool: Record<string, Record<string, number>> = {};

  add(record: DecisionRecord): void {
    if (!record.guards?.length) return;
    const seen = new Set<string>();
    for (const g of record.guards) {
      const key = `${g.pool ?? ''}\u0000${g.guard}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const into = g.pool === undefined ? this.cluster : (this.byPool[g.pool] ??= {});
      into[g.guard] = (into[g.guard] ?? 0) + 1;
    }
  }
}

/** Sorted by name, so the output does not depend on the order rules first applied. */
function sortedCounts(counts: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!counts || !Object.keys(counts).length) return undefined;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Each pool's figures, in config order; `cost` = the pool's cost × its worker-hours. */
export function poolMetrics(pools: readonly PoolConfig[], backends: ReadonlyMap<string, SimulatedBackend>, guards: GuardCounter): Record<string, PoolMetrics> {
  const out: Record<string, PoolMetrics> = {};
  for (const p of pools) {
    const b = backends.get(p.name)!;
    const seconds = b.workerSeconds();
    const own = sortedCounts(guards.byPool[p.name]);
    out[p.name] = {
      workerSeconds: roundMs(seconds),
      peak: b.peakRunning,
      cost: roundMs((p.cost * seconds) / 3600),
      started: b.workersStarted,
      refused: b.refused,
      ...(own ? { guards: own } : {}),
    };
  }
  return out;
}

export { sortedCounts };
