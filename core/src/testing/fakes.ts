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
 * An in-memory backend that keeps the `ResourceBackend` contract: records every call; workers go
 * `pending` on start, `exited` on stop; `status$` replays the current view to a new subscriber.
 * `startImpl`/`stopImpl` let a test delay or fail calls; `existing` is what `adopt` finds;
 * `lockedBy` makes `adopt` refuse with `CLUSTER_LOCKED`.
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

  async adopt(options: AdoptOptions): Promise<BackendWorkerStatus[]> {
    this.adopts.push(options);
    if (this.lockedBy) throw new EbbtideError('CLUSTER_LOCKED', `cluster ${options.cluster} is driven by ${this.lockedBy}`);
    for (const s of this.existing) this.view.set(s.name, s);
    return this.existing.map((s) => ({ ...s }));
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    this.starts.push(specs);
    if (this.startImpl) await this.startImpl(specs);
    this.set(specs.filter((s) => !this.view.has(s.name)).map((s) => ({ name: s.name, phase: 'pending' })));
  }

  async stop(names: string[], options: StopOptions = {}): Promise<void> {
    this.stops.push(names);
    if (options.retired) this.retiredStops.push(...names);
    if (this.stopImpl) await this.stopImpl(names);
    this.set(names.filter((n) => this.view.has(n)).map((n) => ({ name: n, phase: 'exited', failed: false, exitCode: 0 })));
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

  async close(options: CloseOptions = {}): Promise<void> {
    this.closed = true;
    this.closedWith = options;
    if (!options.keep) await this.stop(this.active);
  }
}

/**
 * An in-memory scheduler adapter: `emit` pushes events; `retire` answers `kept` for names in
 * `keep`, else `retired`, and (like a real scheduler) removes retired workers.
 */
export class FakeScheduler implements SchedulerAdapter {
  private readonly subject = new Subject<SchedulerEvent>();
  readonly events$: Observable<SchedulerEvent> = this.subject.asObservable();
  readonly retires: string[][] = [];
  readonly keep = new Set<string>();
  retireImpl?: (names: string[]) => Promise<RetireResult>;
  address = 'fake://scheduler';

  emit(e: SchedulerEvent): void {
    this.subject.next(e);
  }

  async start(): Promise<void> {}

  async retire(names: string[]): Promise<RetireResult> {
    this.retires.push(names);
    if (this.retireImpl) return this.retireImpl(names);
    const outcomes = names.map((name) =>
      this.keep.has(name) ? { name, status: 'kept' as const, reason: 'holds data that cannot be moved' } : { name, status: 'retired' as const, movedBytes: 0 },
    );
    for (const o of outcomes) if (o.status === 'retired') this.emit({ type: 'worker.removed', name: o.name });
    return { outcomes };
  }

  async close(): Promise<void> {
    this.subject.complete();
  }
}
