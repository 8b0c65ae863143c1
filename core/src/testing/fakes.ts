import { Observable, Subject, type VirtualTimeScheduler } from 'rxjs';
import type { AdoptOptions, BackendWorkerStatus, CloseOptions, ResourceBackend, StopOptions, WorkerSpec } from '../contracts/ResourceBackend.js';
import { EbbtideError } from '../errors.js';
import type { RetireResult, SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { SchedulerEvent } from '../contracts/SchedulerEvent.js';
import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import type { TaskPrefixInfo } from '../contracts/TaskPrefixInfo.js';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';

/** A worker with defaults (1 thread, no memory limit, idle) and the given overrides. */
export function makeWorker(name: string, overrides: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    name,
    address: `tcp://127.0.0.1:${40000 + (Number(/\d+$/.exec(name)?.[0]) || 0)}`,
    host: '127.0.0.1',
    nthreads: 1,
    memoryLimit: 0,
    nbytes: 0,
    processing: {},
    longRunning: 0,
    status: 'running',
    labels: {},
    ...overrides,
  };
}

/** A prefix entry with unknown duration and nothing waiting, plus overrides. */
export function makePrefix(overrides: Partial<TaskPrefixInfo> = {}): TaskPrefixInfo {
  return { durationAverage: -1, maxExecTime: -1, queued: 0, unrunnable: 0, ...overrides };
}

export function makeSnapshot(workers: WorkerInfo[] = [], prefixes: Record<string, TaskPrefixInfo> = {}, time = 0): SchedulerSnapshot {
  return { time, workers, prefixes };
}

/** Lets pending promise callbacks run (promises are not virtualised by RxJS). */
export async function flushMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/**
 * Advances a virtual-time scheduler by `ms`, running due actions, flushing microtasks after each
 * step of `stepMs` so promise-based work started by a tick can finish in between.
 */
export async function advance(rx: VirtualTimeScheduler, ms: number, stepMs = ms): Promise<void> {
  const end = rx.frame + ms;
  await flushMicrotasks();
  while (rx.frame < end) {
    rx.maxFrames = Math.min(end, rx.frame + stepMs);
    rx.flush();
    if (rx.frame < rx.maxFrames) rx.frame = rx.maxFrames;
    await flushMicrotasks();
  }
}

/**
 * What several `FakeBackend`s share when they stand for one resource manager (a restarted
 * ebbtide's new backend sees what the old one left): the workers alive, and who holds each
 * cluster's lock.
 */
export class FakeResourceManager {
  readonly alive = new Set<string>();
  readonly locks = new Map<string, FakeBackend>();
  /** Backends that "crashed": their locks count as abandoned. */
  readonly crashed = new Set<FakeBackend>();
}

/**
 * An in-memory backend that keeps the `ResourceBackend` contract: records every call; workers go
 * `pending` on start (`running` after `markRunning`, or at once with `autoRun`), `exited` on stop;
 * `status$` replays the current view to a new subscriber. `startImpl`/`stopImpl` let a test delay
 * or fail calls; `existing` is what `adopt` finds besides what a shared `FakeResourceManager`
 * holds; `lockedBy` makes `adopt` refuse with `CLUSTER_LOCKED`; a spec whose scheduler is `fail`
 * exits failed right after it starts.
 */
export class FakeBackend implements ResourceBackend {
  readonly starts: WorkerSpec[][] = [];
  readonly stops: string[][] = [];
  /** Names stopped with `{ retired: true }`. */
  readonly retiredStops: string[] = [];
  readonly adopts: AdoptOptions[] = [];
  private readonly view = new Map<string, BackendWorkerStatus>();
  private readonly changes = new Subject<BackendWorkerStatus[]>();
  readonly status$: Observable<BackendWorkerStatus[]> = new Observable<BackendWorkerStatus[]>((sub) => {
    sub.next([...this.view.values()]);
    return this.changes.subscribe(sub);
  });
  startImpl?: (specs: WorkerSpec[]) => Promise<void>;
  stopImpl?: (names: string[]) => Promise<void>;
  existing: BackendWorkerStatus[] = [];
  lockedBy?: string;
  closed = false;
  closedWith?: CloseOptions;
  private cluster?: string;

  /**
   * @param world shared with other backends standing for the same resource manager.
   * @param autoRun report started workers `running` at once (default: they stay `pending`).
   */
  constructor(
    readonly world: FakeResourceManager = new FakeResourceManager(),
    private readonly autoRun = false,
  ) {}

  async adopt(options: AdoptOptions): Promise<BackendWorkerStatus[]> {
    this.adopts.push(options);
    if (this.lockedBy) throw new EbbtideError('CLUSTER_LOCKED', `cluster ${options.cluster} is driven by ${this.lockedBy}`);
    const holder = this.world.locks.get(options.cluster);
    if (holder && holder !== this && !holder.closed && !this.world.crashed.has(holder)) {
      throw new EbbtideError('CLUSTER_LOCKED', `cluster ${options.cluster} is driven by another live backend`);
    }
    this.world.locks.set(options.cluster, this);
    this.cluster = options.cluster;
    const found = [...this.existing];
    for (const name of this.world.alive) {
      if (name.startsWith(`${options.cluster}-`) && !found.some((s) => s.name === name)) found.push({ name, phase: 'running' });
    }
    for (const s of found) this.view.set(s.name, s);
    return found.map((s) => ({ ...s }));
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    this.starts.push(specs);
    if (this.startImpl) await this.startImpl(specs);
    const fresh = specs.filter((s) => !this.view.has(s.name));
    for (const s of fresh) this.world.alive.add(s.name);
    this.set(fresh.map((s) => ({ name: s.name, phase: this.autoRun ? 'running' : 'pending' })));
    const failing = fresh.filter((s) => s.scheduler === 'fail');
    if (failing.length) {
      for (const s of failing) this.world.alive.delete(s.name);
      this.set(failing.map((s) => ({ name: s.name, phase: 'exited', failed: true, exitCode: 1, reason: 'exited at once (a failing spec)' })));
    }
  }

  async stop(names: string[], options: StopOptions = {}): Promise<void> {
    this.stops.push(names);
    if (options.retired) this.retiredStops.push(...names);
    if (this.stopImpl) await this.stopImpl(names);
    const known = names.filter((n) => this.view.has(n));
    for (const n of known) this.world.alive.delete(n);
    this.set(known.map((n) => ({ name: n, phase: 'exited', failed: false, exitCode: 0 })));
  }

  /** Reports a status change as the real backend would (an exited worker is then forgotten). */
  set(list: BackendWorkerStatus[]): void {
    for (const s of list) {
      if (s.phase === 'exited') this.view.delete(s.name);
      else this.view.set(s.name, s);
    }
    if (list.length) this.changes.next(list);
  }

  get active(): string[] {
    return [...this.view.values()].filter((s) => s.phase !== 'exited').map((s) => s.name);
  }

  /** Makes `status$` error, as a backend does that lost its lease (`CLUSTER_LOCKED`). */
  fail(e: unknown): void {
    this.changes.error(e);
  }

  /** Leaves this backend as a killed ebbtide would: workers alive, lock abandoned. */
  crash(): void {
    this.world.crashed.add(this);
    this.changes.complete();
  }

  async close(options: CloseOptions = {}): Promise<void> {
    this.closed = true;
    this.closedWith = options;
    if (!options.keep) await this.stop(this.active);
    if (this.cluster && this.world.locks.get(this.cluster) === this) this.world.locks.delete(this.cluster);
  }
}

/**
 * An in-memory scheduler adapter that keeps the `SchedulerAdapter` contract: `emit` pushes
 * events; a new subscriber first gets the current workers as `worker.added` events; `retire`
 * answers `unknown` for names not connected, `kept` for names in `keep`, else `retired` (and,
 * like a real scheduler, removes the retired workers).
 */
export class FakeScheduler implements SchedulerAdapter {
  private readonly subject = new Subject<SchedulerEvent>();
  private readonly connected = new Map<string, Extract<SchedulerEvent, { type: 'worker.added' }>>();
  readonly events$: Observable<SchedulerEvent> = new Observable<SchedulerEvent>((sub) => {
    for (const e of this.connected.values()) sub.next(e);
    return this.subject.subscribe(sub);
  });
  readonly retires: string[][] = [];
  readonly keep = new Set<string>();
  retireImpl?: (names: string[]) => Promise<RetireResult>;
  address = 'fake://scheduler';

  emit(e: SchedulerEvent): void {
    if (e.type === 'worker.added') this.connected.set(e.worker.name, e);
    else if (e.type === 'worker.removed') this.connected.delete(e.name);
    else if (e.type === 'snapshot') {
      this.connected.clear();
      for (const w of e.snapshot.workers) this.connected.set(w.name, { type: 'worker.added', worker: w });
    }
    this.subject.next(e);
  }

  async start(): Promise<void> {}

  async retire(names: string[]): Promise<RetireResult> {
    this.retires.push(names);
    if (this.retireImpl) return this.retireImpl(names);
    const outcomes = [...new Set(names)].map((name) =>
      !this.connected.has(name)
        ? { name, status: 'unknown' as const, reason: 'no connected worker has this name' }
        : this.keep.has(name)
          ? { name, status: 'kept' as const, reason: 'holds data that cannot be moved' }
          : { name, status: 'retired' as const, movedBytes: 0 },
    );
    for (const o of outcomes) if (o.status === 'retired') this.emit({ type: 'worker.removed', name: o.name });
    return { outcomes };
  }

  async close(): Promise<void> {
    this.subject.complete();
  }
}
