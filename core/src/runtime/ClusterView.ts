import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import type { ClusterLike } from '../cluster/ClusterLike.js';
import type { BackendWorkerPhase, BackendWorkerStatus } from '../contracts/ResourceBackend.js';
import type { SchedulerEvent } from '../contracts/SchedulerEvent.js';
import { workerTaskCount } from '../contracts/WorkerInfo.js';
import type { SchedulerStateStore } from '../state/SchedulerStateStore.js';

/**
 * Where a worker is in its life, from both sides: `planned` (wanted, not yet asked of the
 * backend: it is backing off), `requested` (asked, nothing reported yet), `pending` (the backend
 * is getting it resources), `starting` (running, not yet connected to the scheduler), `running`,
 * `paused`, `closing` (the scheduler's status), `stopping` (the backend is stopping it), `lost`
 * (was connected, is no longer, still running in the backend).
 */
export type WorkerState = 'planned' | 'requested' | 'pending' | 'starting' | 'running' | 'paused' | 'closing' | 'stopping' | 'lost';

/** One worker as the control API's table shows it. */
export interface WorkerRow {
  name: string;
  state: WorkerState;
  /** Connected to the scheduler now. */
  connected: boolean;
  /** In the cluster's plan. */
  planned: boolean;
  /** A worker of this cluster (`{cluster}-{counter}`); false for others connected to the same scheduler. */
  managed: boolean;
  /** The backend's phase, when it reports the worker. */
  backend?: BackendWorkerPhase;
  /** The backend's words about it (why it is pending, why it exited). */
  reason?: string;
  address?: string;
  host?: string;
  /** The scheduler's figures once connected, the configured ones before. */
  threads: number;
  /** Bytes, 0 = none. */
  memoryLimit: number;
  /** Bytes of results it holds. */
  nbytes: number;
  /** Tasks assigned to it, long-running ones included. */
  tasks: number;
  /** Its pool (`default` without pools); null for a worker of another cluster. */
  pool: string | null;
  /** Seconds since this ebbtide first saw it (asked for it, adopted it, or saw it connect). */
  age: number;
}

/** A worker the backend reported gone, kept a while for its log and its reason. */
export interface GoneWorker {
  name: string;
  /** Clock seconds. */
  at: number;
  failed: boolean;
  exitCode?: number | null;
  reason?: string;
}

/** How many gone workers are remembered. */
const GONE_KEPT = 100;

/**
 * The per-worker table of a running autoscaler: the cluster's bookkeeping, the backend's phases
 * and the scheduler's view joined by name, with each worker's age. Built on request; between
 * requests it only follows the backend's status and the scheduler's worker arrivals.
 */
export class ClusterView {
  private readonly phases = new Map<string, BackendWorkerStatus>();
  private readonly firstSeen = new Map<string, number>();
  private readonly seenConnected = new Set<string>();
  private readonly goneList: GoneWorker[] = [];
  private readonly sub: Subscription;

  constructor(
    private readonly cluster: ClusterLike,
    private readonly store: SchedulerStateStore,
    backendStatus$: Observable<BackendWorkerStatus[]>,
    schedulerEvents$: Observable<SchedulerEvent>,
    private readonly rx: SchedulerLike,
    private readonly spec: { nthreads: number; memoryLimit: number },
  ) {
    // A failing status stream is the cluster's to report (Cluster.backendFailed$); the view just stops following it.
    this.sub = backendStatus$.subscribe({ next: (list) => this.onBackend(list), error: () => undefined });
    this.sub.add(schedulerEvents$.subscribe((e) => this.onScheduler(e)));
  }

  private now(): number {
    return this.rx.now() / 1000;
  }

  private seen(name: string): void {
    if (!this.firstSeen.has(name)) this.firstSeen.set(name, this.now());
  }

  private onBackend(list: BackendWorkerStatus[]): void {
    for (const s of list) {
      if (s.phase === 'exited') {
        this.phases.delete(s.name);
        this.goneList.push({ name: s.name, at: this.now(), failed: Boolean(s.failed), ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}), ...(s.reason ? { reason: s.reason } : {}) });
        if (this.goneList.length > GONE_KEPT) this.goneList.shift();
      } else {
        this.phases.set(s.name, s);
        this.seen(s.name);
      }
    }
  }

  private onScheduler(e: SchedulerEvent): void {
    if (e.type === 'worker.added') {
      this.seen(e.worker.name);
      this.seenConnected.add(e.worker.name);
    } else if (e.type === 'snapshot') {
      for (const w of e.snapshot.workers) {
        this.seen(w.name);
        this.seenConnected.add(w.name);
      }
    }
  }

  /** Workers the backend reported gone lately, newest last. */
  gone(): readonly GoneWorker[] {
    return this.goneList;
  }

  /**
   * Every worker of the plan, of the backend's view and of the scheduler's, in that order
   * (connected workers in registration order). Forgets the ages of workers gone from all three.
   */
  workers(): WorkerRow[] {
    const now = this.now();
    const snapshot = this.store.snapshot(now);
    const connected = new Map(snapshot.workers.map((w) => [w.name, w]));
    const planned = new Set(this.cluster.plan);
    const requested = new Set(this.cluster.requested);
    const names = [...new Set([...this.cluster.plan, ...this.cluster.requested, ...this.phases.keys(), ...connected.keys()])];
    const rows: WorkerRow[] = [];
    for (const name of names) {
      this.seen(name);
      const w = connected.get(name);
      const phase = this.phases.get(name);
      const managed = planned.has(name) || requested.has(name) || this.cluster.isOurs(name);
      let state: WorkerState;
      if (phase?.phase === 'stopping') state = 'stopping';
      else if (w) state = w.status;
      else if (phase?.phase === 'pending') state = 'pending';
      else if (phase?.phase === 'running') state = this.seenConnected.has(name) ? 'lost' : 'starting';
      else state = requested.has(name) ? 'requested' : 'planned';
      rows.push({
        name,
        state,
        connected: Boolean(w),
        planned: planned.has(name),
        managed,
        ...(phase ? { backend: phase.phase } : {}),
        ...(phase?.reason ? { reason: phase.reason } : {}),
        ...(w ? { address: w.address, host: w.host } : {}),
        threads: w ? w.nthreads : this.spec.nthreads,
        memoryLimit: w ? w.memoryLimit : this.spec.memoryLimit,
        nbytes: w ? w.nbytes : 0,
        tasks: w ? workerTaskCount(w) : 0,
        pool: managed ? (this.cluster.poolOf(name) ?? 'default') : null,
        age: Math.max(0, now - this.firstSeen.get(name)!),
      });
    }
    const present = new Set(names);
    for (const name of this.firstSeen.keys()) {
      if (!present.has(name)) {
        this.firstSeen.delete(name);
        this.seenConnected.delete(name);
      }
    }
    return rows;
  }

  close(): void {
    this.sub.unsubscribe();
  }
}
