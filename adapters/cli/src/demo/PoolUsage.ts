import type { BackendWorkerStatus, PoolSet } from '@ebbtide/core';
import { WorkerSeconds } from './WorkerSeconds.js';

/** One pool's share of a demo's usage. */
export interface PoolSummary {
  workerSeconds: number;
  peak: number;
  /** The pool's `cost` × its worker-hours. */
  cost: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Worker-seconds, alive and peak workers per pool (docs/pools.md), from the backends' statuses:
 * each status goes to the pool whose workers carry its name (`{cluster}-{pool}-{i}`).
 */
export class PoolUsage {
  private readonly usage = new Map<string, WorkerSeconds>();

  constructor(
    private readonly pools: PoolSet,
    private readonly costs: ReadonlyMap<string, number>,
  ) {
    for (const name of pools.names) this.usage.set(name, new WorkerSeconds());
  }

  observe(list: readonly BackendWorkerStatus[], now: number): void {
    const byPool = new Map<string, BackendWorkerStatus[]>();
    for (const s of list) {
      const pool = this.pools.poolOf(s.name);
      if (pool === null) continue;
      byPool.set(pool, [...(byPool.get(pool) ?? []), s]);
    }
    for (const [pool, statuses] of byPool) this.usage.get(pool)?.observe(statuses, now);
  }

  /** `cheap 2 + burst 3`: workers alive per pool, in config order. */
  line(): string {
    return [...this.usage].map(([name, u]) => `${name} ${u.alive}`).join(' + ');
  }

  summary(now: number): Record<string, PoolSummary> {
    const out: Record<string, PoolSummary> = {};
    for (const [name, u] of this.usage) {
      const seconds = u.total(now);
      out[name] = { workerSeconds: round1(seconds), peak: u.peak, cost: round3(((this.costs.get(name) ?? 1) * seconds) / 3600) };
    }
    return out;
  }
}
