import type { Observable } from 'rxjs';
import type { AdoptionResult, CapacityLimit, ScaleResult } from './Cluster.js';

/**
 * What the adaptive loop, the autoscaler and its views need of a cluster's bookkeeping: one
 * `Cluster` over one backend, or a `PoolSet` of several (one `Cluster` per pool).
 */
export interface ClusterLike {
  /** Names we intend to have. */
  readonly plan: readonly string[];
  /** Names the backend(s) accepted and have not reported gone. */
  readonly requested: readonly string[];
  /** Names connected to the scheduler, as last observed. */
  readonly observed: readonly string[];
  /** Set while starts are held back for lack of capacity (with pools: only for a sole default pool). */
  readonly capacityLimit: CapacityLimit | undefined;
  /** Emits once if a backend's status stream fails. */
  readonly backendFailed$: Observable<unknown>;
  /** True for names this cluster gives its workers. */
  isOurs(worker: string): boolean;
  /** The pool a worker of this cluster belongs to (`default` without pools), or null for another cluster's. */
  poolOf(worker: string): string | null;
  adopt(connected: readonly string[]): Promise<AdoptionResult>;
  observe(names: readonly string[]): void;
  rebuild(): string[];
  reconcile(): Promise<ScaleResult>;
  scale(n: number): Promise<ScaleResult>;
  scaleDown(names: readonly string[], options?: { retired?: boolean }): Promise<ScaleResult>;
  close(options?: { keep?: boolean }): Promise<void>;
}
