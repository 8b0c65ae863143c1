import { type Observable, merge } from 'rxjs';
import type { BackendWorkerStatus, CloseOptions, ResourceBackend, StopOptions, WorkerSpec } from '../contracts/ResourceBackend.js';

/** One pool's backend and which worker names are its. */
export interface PoolBackend {
  pool: string;
  backend: ResourceBackend;
  isOurs(name: string): boolean;
}

/**
 * Every pool's backend seen as one (what `Autoscaler.backend` is with pools): statuses merged,
 * calls for a worker routed to its pool's backend, `close` of all. `adopt` is each pool's own
 * (the pool's `Cluster` calls its backend), so it is not offered here.
 */
export class PoolBackends implements ResourceBackend {
  readonly status$: Observable<BackendWorkerStatus[]>;

  constructor(readonly pools: readonly PoolBackend[]) {
    this.status$ = merge(...pools.map((p) => p.backend.status$));
    if (pools.some((p) => p.backend.logs)) {
      this.logs = async (name, lines) => {
        const p = this.pools.find((x) => x.isOurs(name));
        return p?.backend.logs ? p.backend.logs(name, lines) : '';
      };
    }
  }

  private byPool(names: readonly string[]): Map<PoolBackend, string[]> {
    const out = new Map<PoolBackend, string[]>();
    for (const n of names) {
      const p = this.pools.find((x) => x.isOurs(n));
      if (!p) continue;
      const list = out.get(p) ?? [];
      list.push(n);
      out.set(p, list);
    }
    return out;
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    const groups = this.byPool(specs.map((s) => s.name));
    await Promise.all([...groups].map(([p, names]) => p.backend.start(specs.filter((s) => names.includes(s.name)))));
  }

  async stop(names: string[], options?: StopOptions): Promise<void> {
    await Promise.all([...this.byPool(names)].map(([p, list]) => p.backend.stop(list, options)));
  }

  /** A worker's log tail, from its pool's backend; absent when no pool's backend keeps logs. */
  readonly logs?: (name: string, lines?: number) => Promise<string>;

  async close(options?: CloseOptions): Promise<void> {
    const results = await Promise.allSettled(this.pools.map((p) => p.backend.close(options)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
