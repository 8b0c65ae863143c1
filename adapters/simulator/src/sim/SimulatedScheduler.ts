import type { RetireOutcome, RetireResult, SchedulerAdapter, SchedulerEvent, WorkerInfo, WorkerSpec } from '@ebbtide/core';
import { retireEach } from '@ebbtide/core';
import { type Observable, type SchedulerLike, Subject, type Subscription, concat, defer, firstValueFrom, from, timer } from 'rxjs';
import type { Trace, TraceTask } from '../trace/Trace.js';
import { EventQueue } from './EventQueue.js';

export interface SimulatedSchedulerOptions {
  /** Bytes per second a retirement copies results at (per retiring worker). */
  bandwidth: number;
  /** Seconds between `task.executing` reports while tasks run; 0 = none. */
  heartbeatInterval: number;
}

interface SimWorker {
  name: string;
  nthreads: number;
  memoryLimit: number;
  status: 'running' | 'closing';
  /** Run id -> task, while the run occupies a thread slot. */
  running: Map<number, SimTask>;
  /** Results it holds. */
  has: Set<SimTask>;
  nbytes: number;
  gone: boolean;
}

interface SimTask {
  index: number;
  spec: TraceTask;
  status: 'queued' | 'processing' | 'memory' | 'released';
  run: number;
  worker?: SimWorker;
  startedAt: number;
  holders: Set<SimWorker>;
  /** Virtual ms at which the client releases the result; set when it is first computed. */
  releaseAt?: number;
}

type SimEvent =
  | { kind: 'complete'; worker: SimWorker; run: number }
  | { kind: 'release'; task: SimTask }
  | { kind: 'heartbeat' };

/** What the simulated scheduler measured, for `simulate`'s metrics. */
export interface SchedulerStats {
  /** Tasks submitted so far. */
  submitted: number;
  /** Completions (a recomputed task counts again). */
  completions: number;
  /** Seconds from submit to first start, per started task, in trace order. */
  waits: number[];
  /** Virtual seconds of the first submit and the last completion (undefined before either). */
  firstSubmit?: number;
  lastCompletion?: number;
  peakWorkers: number;
  /** Bytes copied by retirements. */
  bytesMoved: number;
  /** Results whose only holder disconnected without being retired (each is recomputed if still wanted). */
  resultsLost: number;
}

/**
 * A scheduler made of arithmetic on virtual time: it replays a trace's tasks and emits exactly the
 * core `SchedulerEvent`s a real scheduler emits (`worker.added`/`updated`/`removed`,
 * `task.transition` queued → processing → memory → released, optional `task.executing`).
 *
 * - Tasks arrive at their `t` (relative to `start()`) and queue; queued tasks go, oldest first, to
 *   the running worker with the most free thread slots (ties: the earliest registered), like the
 *   embedded scheduler.
 * - A run completes after the task's `duration` (`memory` with `duration`, the worker's `nbytes`
 *   grows); the result is released `holdFor` seconds after it was first computed.
 * - `retire` copies the results held only by the worker to the running worker holding the fewest
 *   bytes, taking `bytes / bandwidth` virtual seconds, re-queues what it runs and removes it; with
 *   no recipient the worker is `kept`.
 * - `disconnect` (a backend stop or crash) loses the results only it held: they are counted and,
 *   if the client still holds them, recomputed.
 *
 * Its own future events live in one heap with a single RxJS `timer` armed for the earliest, so
 * the virtual-time scheduler's action list stays short. Workers are attached by
 * `SimulatedBackend` through `connect`/`disconnect`.
 */
export class SimulatedScheduler implements SchedulerAdapter {
  readonly address = 'sim://scheduler';
  /** Current state replayed to each new subscriber, then live events. Never errors. */
  readonly events$: Observable<SchedulerEvent>;
  private readonly subject = new Subject<SchedulerEvent>();
  private readonly workers = new Map<string, SimWorker>();
  private readonly tasks: TraceTask[];
  private readonly sims: Array<SimTask | undefined>;
  private readonly events = new EventQueue<SimEvent>();
  /** FIFO of tasks; entries whose task is no longer queued are skipped when reached. */
  private queue: SimTask[] = [];
  private head = 0;
  private nextArrival = 0;
  private origin = 0;
  private runs = 0;
  /** Tasks submitted and not yet released. */
  private live = 0;
  private executing = 0;
  private heartbeatArmed = false;
  private started = false;
  private closed = false;
  private timerAt?: number;
  private timerSub?: Subscription;
  private readonly retirements = new Map<string, Promise<RetireOutcome>>();
  private wakes = 0;
  /** Seconds from submit to first start, by trace index; NaN until started. */
  private readonly waits: Float64Array;
  private readonly statsValue: Omit<SchedulerStats, 'waits'> = { submitted: 0, completions: 0, peakWorkers: 0, bytesMoved: 0, resultsLost: 0 };

  constructor(
    trace: Trace,
    private readonly options: SimulatedSchedulerOptions,
    private readonly rx: SchedulerLike,
  ) {
    this.tasks = trace.tasks;
    this.sims = new Array<SimTask | undefined>(trace.tasks.length);
    this.waits = new Float64Array(trace.tasks.length).fill(NaN);
    this.events$ = defer(() => concat(from(this.replay()), this.subject));
  }

  /** Starts the trace clock: task `t` is seconds after this call. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.origin = this.rx.now();
    this.arm();
  }

  /** True once every task of the trace was submitted and released. */
  get drained(): boolean {
    return this.nextArrival >= this.tasks.length && this.live === 0;
  }

  /** Connected workers. */
  get workerCount(): number {
    return this.workers.size;
  }

  /** Names of connected workers, in registration order. */
  workerNames(): string[] {
    return [...this.workers.keys()];
  }

  /** Bytes each connected worker holds. */
  nbytesOf(name: string): number | undefined {
    return this.workers.get(name)?.nbytes;
  }

  /**
   * Times its own event timer fired. That work is synchronous (it settles no promise), so a
   * driver may skip draining promises after a step that ran nothing else.
   */
  get timerWakes(): number {
    return this.wakes;
  }

  stats(): SchedulerStats {
    const waits: number[] = [];
    for (const w of this.waits) if (!Number.isNaN(w)) waits.push(w);
    return { ...this.statsValue, waits };
  }

  /** A worker the backend started has connected. */
  connect(spec: WorkerSpec): void {
    if (this.closed || this.workers.has(spec.name)) return;
    const w: SimWorker = { name: spec.name, nthreads: spec.nthreads, memoryLimit: spec.memoryLimit, status: 'running', running: new Map(), has: new Set(), nbytes: 0, gone: false };
    this.workers.set(w.name, w);
    this.statsValue.peakWorkers = Math.max(this.statsValue.peakWorkers, this.workers.size);
    this.emit({ type: 'worker.added', worker: this.workerInfo(w) });
    this.schedule();
    this.arm();
  }

  /** A worker went away without retirement (stopped or crashed): what only it held is lost. */
  disconnect(name: string): void {
    const w = this.workers.get(name);
    if (!w) return;
    this.removeWorker(w);
    this.schedule();
    this.arm();
  }

  /**
   * Graceful removal, one outcome per name: the workers stop receiving tasks; each copies the
   * results only it holds to the running worker with the fewest bytes (waiting
   * `bytes / bandwidth`), re-queues its tasks and is removed. No recipient: `kept`, back to
   * running. Not connected: `unknown`.
   */
  async retire(names: string[]): Promise<RetireResult> {
    return retireEach(names, {
      lookup: (name) => this.workers.get(name),
      markClosing: (w) => this.setStatus(w, 'closing'),
      retireOne: (w) => this.retireOne(w),
      inFlight: this.retirements,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timerSub?.unsubscribe();
    this.timerSub = undefined;
    this.subject.complete();
  }

  // ---------------------------------------------------------------- time

  private nextTime(): number | undefined {
    const heap = this.events.peekTime();
    const arrival = this.nextArrival < this.tasks.length ? this.origin + this.tasks[this.nextArrival]!.t * 1000 : undefined;
    if (heap === undefined) return arrival;
    if (arrival === undefined) return heap;
    return Math.min(heap, arrival);
  }

  /** Keeps one timer armed for the earliest pending event. */
  private arm(): void {
    if (!this.started || this.closed) return;
    const next = this.nextTime();
    if (next === undefined || (this.timerAt !== undefined && this.timerAt <= next)) return;
    this.timerSub?.unsubscribe();
    this.timerAt = next;
    this.timerSub = timer(Math.max(0, next - this.rx.now()), this.rx).subscribe(() => {
      this.timerAt = undefined;
      this.timerSub = undefined;
      this.wakes++;
      this.wake();
    });
  }

  /** Runs everything due now (completions and releases before arrivals), then assigns. */
  private wake(): void {
    if (this.closed) return;
    const now = this.rx.now();
    for (let e = this.events.popDue(now); e; e = this.events.popDue(now)) {
      if (e.kind === 'complete') this.complete(e.worker, e.run);
      else if (e.kind === 'release') this.release(e.task);
      else this.heartbeat();
    }
    while (this.nextArrival < this.tasks.length && this.origin + this.tasks[this.nextArrival]!.t * 1000 <= now) this.arrive(this.nextArrival++);
    this.schedule();
    this.arm();
  }

  // ---------------------------------------------------------------- tasks

  private arrive(index: number): void {
    const spec = this.tasks[index]!;
    const t: SimTask = { index, spec, status: 'queued', run: 0, startedAt: -1, holders: new Set() };
    this.sims[index] = t;
    this.live++;
    this.statsValue.submitted++;
    this.statsValue.firstSubmit ??= this.seconds(this.rx.now());
    this.queue.push(t);
    this.emit({ type: 'task.transition', key: spec.key, prefix: spec.prefix, to: 'queued' });
  }

  /** Assigns queued tasks, oldest first, while a running worker has a free slot. */
  private schedule(): void {
    while (this.head < this.queue.length) {
      const w = this.pickWorker();
      if (!w) break;
      const t = this.queue[this.head++]!;
      if (t.status === 'queued') this.assign(t, w);
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The running worker with the most free slots; ties go to the earliest registered. */
  private pickWorker(): SimWorker | undefined {
    let best: SimWorker | undefined;
    let bestFree = 0;
    for (const w of this.workers.values()) {
      if (w.status !== 'running') continue;
      const free = w.nthreads - w.running.size;
      if (free > bestFree) {
        best = w;
        bestFree = free;
      }
    }
    return best;
  }

  private assign(t: SimTask, w: SimWorker): void {
    const now = this.rx.now();
    t.status = 'processing';
    t.worker = w;
    t.run = ++this.runs;
    t.startedAt = now;
    w.running.set(t.run, t);
    this.executing++;
    if (Number.isNaN(this.waits[t.index]!)) this.waits[t.index] = (now - (this.origin + t.spec.t * 1000)) / 1000;
    this.emit({ type: 'task.transition', key: t.spec.key, to: 'processing', worker: w.name });
    this.events.push(now + t.spec.duration * 1000, { kind: 'complete', worker: w, run: t.run });
    this.armHeartbeat(now);
  }

  private complete(w: SimWorker, run: number): void {
    const t = w.running.get(run);
    if (w.gone || !t) return;
    w.running.delete(run);
    // A run released or re-queued meanwhile only frees its slot.
    if (t.status !== 'processing' || t.run !== run || t.worker !== w) return;
    const now = this.rx.now();
    this.executing--;
    t.status = 'memory';
    t.worker = undefined;
    t.holders.add(w);
    w.has.add(t);
    w.nbytes += t.spec.nbytes;
    this.statsValue.completions++;
    this.statsValue.lastCompletion = this.seconds(now);
    this.emit({ type: 'task.transition', key: t.spec.key, to: 'memory', duration: t.spec.duration });
    this.emit({ type: 'worker.updated', name: w.name, nbytes: w.nbytes });
    if (t.releaseAt === undefined) {
      t.releaseAt = now + t.spec.holdFor * 1000;
      if (t.spec.holdFor > 0) this.events.push(t.releaseAt, { kind: 'release', task: t });
      else this.release(t);
    } else if (t.releaseAt <= now) {
      // Recomputed after a loss, and the client let go of it meanwhile.
      this.release(t);
    }
  }

  /** The client lets go of the result (or of the task, if it is still waiting or running). */
  private release(t: SimTask): void {
    if (t.status === 'released') return;
    if (t.status === 'processing') this.executing--;
    t.status = 'released';
    t.worker = undefined;
    for (const h of t.holders) {
      h.has.delete(t);
      h.nbytes -= t.spec.nbytes;
      if (!h.gone) this.emit({ type: 'worker.updated', name: h.name, nbytes: h.nbytes });
    }
    t.holders.clear();
    this.live--;
    this.sims[t.index] = undefined;
    this.emit({ type: 'task.transition', key: t.spec.key, to: 'released' });
  }

  private requeue(t: SimTask): void {
    if (t.status === 'processing') this.executing--;
    t.status = 'queued';
    t.worker = undefined;
    this.queue.push(t);
    // With the prefix: the state store forgets finished tasks, so a recomputed one is new to it.
    this.emit({ type: 'task.transition', key: t.spec.key, prefix: t.spec.prefix, to: 'queued' });
  }

  private requeueFrom(w: SimWorker): void {
    for (const [run, t] of w.running) {
      if (t.status === 'processing' && t.run === run && t.worker === w) this.requeue(t);
    }
    w.running.clear();
  }

  private armHeartbeat(now: number): void {
    const every = this.options.heartbeatInterval * 1000;
    if (this.heartbeatArmed || !(every > 0) || this.executing === 0) return;
    this.heartbeatArmed = true;
    this.events.push((Math.floor(now / every) + 1) * every, { kind: 'heartbeat' });
  }

  /** Reports, per prefix, the longest a running task has been executing (what the store keeps). */
  private heartbeat(): void {
    this.heartbeatArmed = false;
    const now = this.rx.now();
    const longest = new Map<string, number>();
    for (const w of this.workers.values()) {
      for (const [run, t] of w.running) {
        if (t.run !== run || t.status !== 'processing') continue;
        const elapsed = (now - t.startedAt) / 1000;
        if (elapsed > (longest.get(t.spec.prefix) ?? 0)) longest.set(t.spec.prefix, elapsed);
      }
    }
    for (const [prefix, elapsed] of longest) this.emit({ type: 'task.executing', prefix, elapsed });
    this.armHeartbeat(now);
  }

  // ---------------------------------------------------------------- workers

  private removeWorker(w: SimWorker): void {
    w.gone = true;
    this.workers.delete(w.name);
    this.requeueFrom(w);
    for (const t of w.has) {
      t.holders.delete(w);
      if (t.holders.size === 0 && t.status === 'memory') {
        this.statsValue.resultsLost++;
        this.emit({ type: 'task.transition', key: t.spec.key, to: 'released' });
        // The client still holds it (its release is in the future): compute it again.
        this.requeue(t);
      }
    }
    w.has.clear();
    w.nbytes = 0;
    this.emit({ type: 'worker.removed', name: w.name });
  }

  private async retireOne(w: SimWorker): Promise<RetireOutcome> {
    let moved = 0;
    for (;;) {
      if (w.gone) return { name: w.name, status: 'retired', movedBytes: moved, reason: 'disconnected while retiring' };
      const unique = this.onlyHeldBy(w);
      if (unique.length === 0) break;
      const to = this.pickRecipient();
      if (!to) {
        this.setStatus(w, 'running');
        this.schedule();
        this.arm();
        return { name: w.name, status: 'kept', reason: 'holds data that cannot be moved', ...(moved > 0 ? { movedBytes: moved } : {}) };
      }
      let bytes = 0;
      for (const t of unique) bytes += t.spec.nbytes;
      const copyMs = (bytes / this.options.bandwidth) * 1000;
      if (copyMs > 0) await firstValueFrom(timer(copyMs, this.rx));
      if (to.gone || to.status !== 'running') continue;
      for (const t of unique) {
        // Released meanwhile, or already copied by a concurrent retirement: nothing to move.
        if (t.status !== 'memory' || t.holders.has(to)) continue;
        t.holders.add(to);
        to.has.add(t);
        to.nbytes += t.spec.nbytes;
        moved += t.spec.nbytes;
      }
      this.emit({ type: 'worker.updated', name: to.name, nbytes: to.nbytes });
    }
    this.statsValue.bytesMoved += moved;
    // Its unique results are safe elsewhere: what it still runs starts over on another worker.
    this.removeWorker(w);
    this.schedule();
    this.arm();
    return { name: w.name, status: 'retired', movedBytes: moved };
  }

  /** Results that would be lost with `w`: no other holder outside a retirement has them. */
  private onlyHeldBy(w: SimWorker): SimTask[] {
    const out: SimTask[] = [];
    for (const t of w.has) {
      let elsewhere = false;
      for (const h of t.holders) {
        if (h !== w && h.status !== 'closing') {
          elsewhere = true;
          break;
        }
      }
      if (!elsewhere) out.push(t);
    }
    return out;
  }

  /** The running worker holding the fewest bytes (ties: the earliest registered). */
  private pickRecipient(): SimWorker | undefined {
    let best: SimWorker | undefined;
    for (const w of this.workers.values()) {
      if (w.status === 'running' && (!best || w.nbytes < best.nbytes)) best = w;
    }
    return best;
  }

  private setStatus(w: SimWorker, status: SimWorker['status']): void {
    if (w.status === status) return;
    w.status = status;
    this.emit({ type: 'worker.updated', name: w.name, status });
  }

  // ---------------------------------------------------------------- events

  private workerInfo(w: SimWorker): Omit<WorkerInfo, 'processing' | 'longRunning'> {
    return { name: w.name, address: `sim://${w.name}`, host: 'sim', nthreads: w.nthreads, memoryLimit: w.memoryLimit, nbytes: w.nbytes, status: w.status, labels: {} };
  }

  private replay(): SchedulerEvent[] {
    const events: SchedulerEvent[] = [];
    for (const w of this.workers.values()) events.push({ type: 'worker.added', worker: this.workerInfo(w) });
    for (const t of this.sims) {
      if (t?.status === 'queued') events.push({ type: 'task.transition', key: t.spec.key, prefix: t.spec.prefix, to: 'queued' });
      else if (t?.status === 'processing') events.push({ type: 'task.transition', key: t.spec.key, prefix: t.spec.prefix, to: 'processing', worker: t.worker!.name });
    }
    return events;
  }

  private emit(e: SchedulerEvent): void {
    this.subject.next(e);
  }

  private seconds(ms: number): number {
    return (ms - this.origin) / 1000;
  }
}
