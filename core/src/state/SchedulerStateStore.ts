import type { SchedulerEvent, TaskState } from '../contracts/SchedulerEvent.js';
import type { ResourceTasks, SchedulerSnapshot, SnapshotTotals } from '../contracts/SchedulerSnapshot.js';
import type { TaskPrefixInfo } from '../contracts/TaskPrefixInfo.js';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import { keySplit } from './keySplit.js';

interface PrefixState {
  name: string;
  durationAverage: number;
  maxExecTime: number;
  queued: number;
  unrunnable: number;
}

interface WorkerState {
  info: Omit<WorkerInfo, 'processing' | 'longRunning'>;
  processing: Map<string, number>;
  longRunning: number;
  /** False once removed: late task events for it are ignored. */
  alive: boolean;
  /** The worker as the last snapshot showed it; cleared by any change, so unchanged workers cost nothing per tick. */
  cached?: WorkerInfo;
}

/** Only tasks in these states affect a decision, so only they are tracked. */
type TrackedState = 'queued' | 'unrunnable' | 'processing';

interface TaskRecord {
  prefix: PrefixState;
  state: TrackedState;
  worker?: WorkerState;
  longRunning: boolean;
  /** What one run needs (Dask resource restrictions), when it needs any. */
  resources?: Record<string, number>;
}

/** Tasks needing one resource, kept as the tasks move (see `ResourceTasks`). */
interface ResourceCount {
  waiting: number;
  processing: number;
  units: Map<string, number>;
}

export interface StoreCounts {
  workers: number;
  queued: number;
  unrunnable: number;
  processing: number;
}

export interface SchedulerStateStoreOptions {
  /** Seconds per prefix that seed a new prefix's duration average (Dask's default-task-durations). */
  defaultTaskDurations?: Record<string, number>;
}

/**
 * Turns scheduler events into the aggregates a decision needs, incrementally: each event costs
 * O(1) (a snapshot event costs its size), and `snapshot()` costs O(workers + prefixes). Only
 * tasks that are queued, unrunnable or processing are remembered; finished ones are forgotten.
 */
export class SchedulerStateStore {
  private readonly workers = new Map<string, WorkerState>();
  private readonly prefixes = new Map<string, PrefixState>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly defaults: Record<string, number>;
  private totals = { queued: 0, unrunnable: 0, processing: 0 };
  /** Sums over connected workers, kept in step with every change (see `SnapshotTotals`). */
  private readonly sums = { nthreads: 0, memoryLimit: 0, nbytes: 0 };
  private readonly processingByPrefix = new Map<string, number>();
  /** Per resource name: the tracked tasks that need it. */
  private readonly resourceCounts = new Map<string, ResourceCount>();
  /** What the last full snapshot (a polling adapter's) said about resources. */
  private snapshotResources?: Record<string, ResourceTasks>;
  /** False while the adapter has lost its scheduler; decisions must not shrink the cluster then. */
  connected = true;

  constructor(options: SchedulerStateStoreOptions = {}) {
    this.defaults = options.defaultTaskDurations ?? {};
  }

  apply(event: SchedulerEvent): void {
    switch (event.type) {
      case 'snapshot':
        this.replace(event.snapshot);
        return;
      case 'connection':
        this.connected = event.connected;
        return;
      case 'worker.added': {
        const { processing, longRunning, ...info } = event.worker;
        this.removeWorker(info.name);
        const ws: WorkerState = { info: { ...info, labels: { ...(info.labels ?? {}) } }, processing: new Map(Object.entries(processing ?? {})), longRunning: longRunning ?? 0, alive: true };
        this.addWorker(ws);
        return;
      }
      case 'worker.updated': {
        const ws = this.workers.get(event.name);
        if (!ws) return;
        this.sumWorker(ws, -1);
        if (event.nbytes !== undefined) ws.info.nbytes = event.nbytes;
        if (event.memoryLimit !== undefined) ws.info.memoryLimit = event.memoryLimit;
        if (event.nthreads !== undefined) ws.info.nthreads = event.nthreads;
        this.sumWorker(ws, 1);
        if (event.status !== undefined) ws.info.status = event.status;
        if (event.labels !== undefined) ws.info.labels = { ...event.labels };
        delete ws.cached;
        return;
      }
      case 'worker.removed':
        this.removeWorker(event.name);
        return;
      case 'task.transition':
        this.transition(event.key, event.prefix, event.to, event.worker, event.duration, event.resources);
        return;
      case 'task.executing': {
        const p = this.prefix(event.prefix);
        p.maxExecTime = Math.max(event.elapsed, p.maxExecTime);
        if (event.elapsed > 2 * p.durationAverage) p.durationAverage = -1;
        return;
      }
      case 'task.seceded': {
        const rec = this.tasks.get(event.key);
        if (!rec || rec.state !== 'processing' || rec.longRunning) return;
        this.leave(rec);
        rec.longRunning = true;
        this.enter(rec);
        if (event.computeDuration !== undefined) {
          const old = rec.prefix.durationAverage;
          rec.prefix.durationAverage = old < 0 ? event.computeDuration : (old + event.computeDuration) / 2;
        }
        return;
      }
    }
  }

  /** Names of connected workers, in registration order. */
  workerNames(): string[] {
    return [...this.workers.keys()];
  }

  counts(): StoreCounts {
    return { workers: this.workers.size, ...this.totals };
  }

  /** Tasks currently tracked (queued, unrunnable or processing). */
  get trackedTasks(): number {
    return this.tasks.size;
  }

  /**
   * The state as a decision reads it. Worker objects are frozen and shared between snapshots
   * while the worker does not change, so a tick costs O(workers changed + workers).
   */
  snapshot(time: number): SchedulerSnapshot {
    const workers: WorkerInfo[] = new Array<WorkerInfo>(this.workers.size);
    let i = 0;
    for (const ws of this.workers.values()) workers[i++] = ws.cached ??= this.freeze(ws);
    const prefixes: Record<string, TaskPrefixInfo> = {};
    for (const p of this.prefixes.values()) {
      prefixes[p.name] = { durationAverage: p.durationAverage, maxExecTime: p.maxExecTime, queued: p.queued, unrunnable: p.unrunnable };
    }
    const totals: SnapshotTotals = {
      processing: Object.fromEntries(this.processingByPrefix),
      workerTasks: this.totals.processing,
      ...this.sums,
    };
    const resources = this.resourceTasks();
    return resources ? { time, workers, prefixes, totals, resources } : { time, workers, prefixes, totals };
  }

  /** The tasks that need each resource, or undefined when none does (snapshots then look as before resources existed). */
  private resourceTasks(): Record<string, ResourceTasks> | undefined {
    if (this.resourceCounts.size === 0 && !this.snapshotResources) return undefined;
    const out: Record<string, ResourceTasks> = {};
    for (const [r, t] of Object.entries(this.snapshotResources ?? {})) out[r] = { waiting: t.waiting, processing: t.processing, units: { ...t.units } };
    for (const [r, c] of this.resourceCounts) {
      const o = (out[r] ??= { waiting: 0, processing: 0, units: {} });
      o.waiting += c.waiting;
      o.processing += c.processing;
      for (const [p, u] of c.units) o.units[p] = (o.units[p] ?? 0) + u;
    }
    return Object.keys(out).length ? out : undefined;
  }

  private countResources(rec: TaskRecord, sign: 1 | -1): void {
    for (const [r, amount] of Object.entries(rec.resources!)) {
      let c = this.resourceCounts.get(r);
      if (!c) this.resourceCounts.set(r, (c = { waiting: 0, processing: 0, units: new Map() }));
      if (rec.state === 'processing') c.processing += sign;
      else c.waiting += sign;
      const u = (c.units.get(rec.prefix.name) ?? 0) + sign * amount;
      if (u <= 0) c.units.delete(rec.prefix.name);
      else c.units.set(rec.prefix.name, u);
      if (c.waiting === 0 && c.processing === 0) this.resourceCounts.delete(r);
    }
  }

  private addWorker(ws: WorkerState): void {
    this.workers.set(ws.info.name, ws);
    this.sumWorker(ws, 1);
    for (const [p, n] of ws.processing) {
      this.addProcessing(p, n);
      this.totals.processing += n;
    }
    this.totals.processing += ws.longRunning;
  }

  private sumWorker(ws: WorkerState, sign: 1 | -1): void {
    this.sums.nthreads += sign * ws.info.nthreads;
    this.sums.memoryLimit += sign * ws.info.memoryLimit;
    this.sums.nbytes += sign * ws.info.nbytes;
  }

  private addProcessing(prefix: string, n: number): void {
    const v = (this.processingByPrefix.get(prefix) ?? 0) + n;
    if (v === 0) this.processingByPrefix.delete(prefix);
    else this.processingByPrefix.set(prefix, v);
  }

  private freeze(ws: WorkerState): WorkerInfo {
    const processing: Record<string, number> = {};
    for (const [p, n] of ws.processing) if (n > 0) processing[p] = n;
    Object.freeze(processing);
    return Object.freeze({ ...ws.info, labels: Object.freeze({ ...ws.info.labels }), processing, longRunning: ws.longRunning });
  }

  private prefix(name: string): PrefixState {
    let p = this.prefixes.get(name);
    if (!p) {
      const seeded = this.defaults[name];
      p = { name, durationAverage: seeded ?? -1, maxExecTime: -1, queued: 0, unrunnable: 0 };
      this.prefixes.set(name, p);
    }
    return p;
  }

  private removeWorker(name: string): void {
    const ws = this.workers.get(name);
    if (!ws) return;
    ws.alive = false;
    this.workers.delete(name);
    this.sumWorker(ws, -1);
    for (const [p, n] of ws.processing) {
      this.addProcessing(p, -n);
      this.totals.processing -= n;
    }
    this.totals.processing -= ws.longRunning;
  }

  private replace(s: SchedulerSnapshot): void {
    for (const ws of this.workers.values()) ws.alive = false;
    this.workers.clear();
    this.tasks.clear();
    this.resourceCounts.clear();
    this.snapshotResources = s.resources && Object.keys(s.resources).length ? s.resources : undefined;
    this.totals = { queued: 0, unrunnable: 0, processing: 0 };
    this.sums.nthreads = this.sums.memoryLimit = this.sums.nbytes = 0;
    this.processingByPrefix.clear();
    for (const w of s.workers) {
      const { processing, longRunning, ...info } = w;
      this.addWorker({ info: { ...info, labels: { ...info.labels } }, processing: new Map(Object.entries(processing)), longRunning, alive: true });
    }
    // Learned durations survive a reconnect; counts come from the new state.
    for (const p of this.prefixes.values()) {
      p.queued = 0;
      p.unrunnable = 0;
    }
    for (const [name, info] of Object.entries(s.prefixes)) {
      const p = this.prefix(name);
      p.durationAverage = info.durationAverage;
      p.maxExecTime = info.maxExecTime;
      p.queued = info.queued;
      p.unrunnable = info.unrunnable;
      this.totals.queued += info.queued;
      this.totals.unrunnable += info.unrunnable;
    }
  }

  private transition(key: string, prefixName: string | undefined, to: TaskState, worker: string | undefined, duration: number | undefined, needs?: Record<string, number>): void {
    let rec = this.tasks.get(key);
    if (rec) this.leave(rec);
    const resources = rec?.resources ?? (needs && Object.keys(needs).length ? { ...needs } : undefined);
    const prefix = rec?.prefix ?? this.prefix(prefixName ?? keySplit(key));
    if (to === 'memory' && duration !== undefined && duration >= 0) {
      prefix.durationAverage = prefix.durationAverage < 0 ? duration : 0.5 * duration + 0.5 * prefix.durationAverage;
    }
    if (to === 'queued' || to === 'unrunnable' || to === 'processing') {
      const ws = to === 'processing' && worker !== undefined ? this.workers.get(worker) : undefined;
      if (to === 'processing' && !ws) {
        // Assigned to a worker we do not know (yet): count it as waiting for a worker.
        if (rec) this.tasks.delete(key);
        rec = { prefix, state: 'unrunnable', longRunning: false, ...(resources ? { resources } : {}) };
      } else {
        rec = { prefix, state: to, longRunning: false, ...(ws ? { worker: ws } : {}), ...(resources ? { resources } : {}) };
      }
      this.tasks.set(key, rec);
      this.enter(rec);
    } else if (rec) {
      this.tasks.delete(key);
    }
  }

  private leave(rec: TaskRecord): void {
    if (rec.resources) this.countResources(rec, -1);
    switch (rec.state) {
      case 'queued':
        rec.prefix.queued--;
        this.totals.queued--;
        return;
      case 'unrunnable':
        rec.prefix.unrunnable--;
        this.totals.unrunnable--;
        return;
      case 'processing': {
        const ws = rec.worker!;
        if (rec.longRunning) ws.longRunning--;
        else {
          ws.processing.set(rec.prefix.name, (ws.processing.get(rec.prefix.name) ?? 0) - 1);
          if (ws.alive) this.addProcessing(rec.prefix.name, -1);
        }
        if (ws.alive) this.totals.processing--;
        delete ws.cached;
        return;
      }
    }
  }

  private enter(rec: TaskRecord): void {
    if (rec.resources) this.countResources(rec, 1);
    switch (rec.state) {
      case 'queued':
        rec.prefix.queued++;
        this.totals.queued++;
        return;
      case 'unrunnable':
        rec.prefix.unrunnable++;
        this.totals.unrunnable++;
        return;
      case 'processing': {
        const ws = rec.worker!;
        if (rec.longRunning) ws.longRunning++;
        else {
          ws.processing.set(rec.prefix.name, (ws.processing.get(rec.prefix.name) ?? 0) + 1);
          if (ws.alive) this.addProcessing(rec.prefix.name, 1);
        }
        if (ws.alive) this.totals.processing++;
        delete ws.cached;
        return;
      }
    }
  }
}
