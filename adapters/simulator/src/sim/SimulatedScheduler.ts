import type { ModelTask, ModelWorker, RetireOutcome, RetireResult, SchedulerAdapter, SchedulerEvent, WorkerSpec } from '@ebbtide/core';
import { SchedulingModel, retireEach, retirementStep } from '@ebbtide/core';
import { type Observable, type SchedulerAction, type SchedulerLike, Subject, type Subscription, concat, defer, firstValueFrom, from, timer } from 'rxjs';
import type { Trace, TraceTask } from '../trace/Trace.js';
import { EventQueue } from './EventQueue.js';
import { VirtualClock } from './VirtualClock.js';

export interface SimulatedSchedulerOptions {
  /** Bytes per second a retirement copies results at (per retiring worker). */
  bandwidth: number;
  /** Seconds between `task.executing` reports while tasks run; 0 = none. */
  heartbeatInterval: number;
}

/** What the simulator keeps per task, beyond the model's state. */
interface SimTaskData {
  index: number;
  spec: TraceTask;
  /** Virtual ms at which the client releases the result; set when it is first computed. */
  releaseAt?: number;
}

type SimTask = ModelTask<SimTaskData, undefined>;
type SimWorker = ModelWorker<SimTaskData, undefined>;

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
 * A scheduler made of arithmetic on virtual time: it replays a trace's tasks through the core's
 * `SchedulingModel` — the same queue, placement, result holders, retirement plan and loss
 * handling the embedded scheduler runs on — so it emits exactly the core `SchedulerEvent`s a real
 * scheduler emits (`worker.added`/`updated`/`removed`, `task.transition` queued → processing →
 * memory → released, optional `task.executing`).
 *
 * What is simulated here, around the model:
 * - Tasks arrive at their `t` (relative to `start()`) and are submitted then.
 * - A run completes after the task's `duration`; the result is released `holdFor` seconds after
 *   it was first computed.
 * - A retirement copies at `bandwidth`: each move the model plans takes `bytes / bandwidth`
 *   virtual seconds; then the worker is removed (what it still runs starts over elsewhere).
 * - `disconnect` (a backend stop or crash) loses the results only it held: they are counted and,
 *   as the client still holds them, recomputed at once.
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
  private readonly model: SchedulingModel<SimTaskData, undefined>;
  private readonly tasks: TraceTask[];
  private readonly events = new EventQueue<SimEvent>();
  private nextArrival = 0;
  private origin = 0;
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
    this.waits = new Float64Array(trace.tasks.length).fill(NaN);
    this.model = new SchedulingModel<SimTaskData, undefined>({
      emit: (e) => this.subject.next(e),
      // Nobody listening (a static baseline reads the model's counts): no events to build; a
      // subscriber that comes later gets the model's replay first.
      listening: () => this.subject.observed,
      assigned: (t, w) => this.assigned(t, w),
      // The trace's client still holds every result it has not released yet.
      lostResults: 'recompute',
    });
    this.events$ = defer(() => concat(from(this.model.replay()), this.subject));
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
    return this.nextArrival >= this.tasks.length && this.model.taskCount === 0;
  }

  /** Connected workers. */
  get workerCount(): number {
    return this.model.workerCount;
  }

  /** Tasks waiting for a slot (a state store fed by `events$` counts them as queued or unrunnable). */
  get queuedCount(): number {
    return this.model.queuedCount;
  }

  /** Tasks whose current run is in flight. */
  get processingCount(): number {
    return this.model.processingCount;
  }

  /** Names of connected workers, in registration order. */
  workerNames(): string[] {
    return [...this.model.workers()].map((w) => w.name);
  }

  /** Bytes each connected worker holds. */
  nbytesOf(name: string): number | undefined {
    return this.model.worker(name)?.nbytes;
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
    if (this.closed || this.model.worker(spec.name)) return;
    const pool = spec.pool;
    this.model.addWorker(
      {
        name: spec.name,
        nthreads: spec.nthreads,
        memoryLimit: spec.memoryLimit,
        address: `sim://${spec.name}`,
        host: 'sim',
        labels: pool ? { ...pool.labels, pool: pool.name } : {},
        ...(pool && Object.keys(pool.resources).length ? { resources: { ...pool.resources } } : {}),
      },
      undefined,
    );
    this.statsValue.peakWorkers = Math.max(this.statsValue.peakWorkers, this.model.workerCount);
    this.schedule();
    this.arm();
  }

  /** A worker went away without retirement (stopped or crashed): what only it held is lost. */
  disconnect(name: string): void {
    const w = this.model.worker(name);
    if (!w) return;
    this.statsValue.resultsLost += this.model.removeWorker(w).length;
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
      lookup: (name) => this.model.worker(name),
      markClosing: (w) => this.model.setStatus(w, 'closing'),
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
    this.timerAt = next;
    // Scheduled on the clock directly (what `timer` does on subscribe, without its observable
    // and subscriber per event): the same action at the same place in the clock's order.
    const delay = Math.max(0, next - this.rx.now());
    if (this.rx instanceof VirtualClock && this.timerSub) {
      // On the simulation's clock, one action for the whole run, moved on each re-arm (the clock
      // drops its older entry, as it drops an unsubscribed one): no new action per event.
      (this.timerSub as SchedulerAction<unknown>).schedule(undefined, delay);
      return;
    }
    this.timerSub?.unsubscribe();
    this.timerSub = this.rx.schedule(this.fire, delay);
  }

  private readonly fire = (): void => {
    this.timerAt = undefined;
    if (!(this.rx instanceof VirtualClock)) this.timerSub = undefined;
    this.wakes++;
    this.wake();
  };

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

  private schedule(): void {
    this.model.schedule(this.rx.now());
  }

  // ---------------------------------------------------------------- tasks

  private arrive(index: number): void {
    const spec = this.tasks[index]!;
    this.statsValue.submitted++;
    this.statsValue.firstSubmit ??= this.seconds(this.rx.now());
    this.model.submit(spec.key, spec.prefix, { index, spec }, spec.resources);
  }

  /** The model assigned a run: its completion is due `duration` later. */
  private assigned(t: SimTask, w: SimWorker): void {
    const now = this.rx.now();
    const { index, spec } = t.data;
    if (Number.isNaN(this.waits[index]!)) this.waits[index] = (now - (this.origin + spec.t * 1000)) / 1000;
    this.events.push(now + spec.duration * 1000, { kind: 'complete', worker: w, run: t.run });
    this.armHeartbeat(now);
  }

  private complete(w: SimWorker, run: number): void {
    const spec = w.processing.get(run)?.data.spec;
    if (!spec) return;
    // A run released or re-queued meanwhile only frees its slot.
    const t = this.model.finished(w, run, { nbytes: spec.nbytes, duration: spec.duration });
    if (!t) return;
    const now = this.rx.now();
    this.statsValue.completions++;
    this.statsValue.lastCompletion = this.seconds(now);
    const data = t.data;
    if (data.releaseAt === undefined) {
      data.releaseAt = now + data.spec.holdFor * 1000;
      if (data.spec.holdFor > 0) this.events.push(data.releaseAt, { kind: 'release', task: t });
      else this.release(t);
    } else if (data.releaseAt <= now) {
      // Recomputed after a loss, and the client let go of it meanwhile.
      this.release(t);
    }
  }

  /** The client lets go of the result (or of the task, if it is still waiting or running). */
  private release(t: SimTask): void {
    if (t.status !== 'released') this.model.release(t.key);
  }

  private armHeartbeat(now: number): void {
    const every = this.options.heartbeatInterval * 1000;
    if (this.heartbeatArmed || !(every > 0) || this.model.processingCount === 0) return;
    this.heartbeatArmed = true;
    this.events.push((Math.floor(now / every) + 1) * every, { kind: 'heartbeat' });
  }

  /** Reports, per prefix, the longest a running task has been executing (what the store keeps). */
  private heartbeat(): void {
    this.heartbeatArmed = false;
    const now = this.rx.now();
    this.model.reportExecuting(now);
    this.armHeartbeat(now);
  }

  // ---------------------------------------------------------------- workers

  /** The model plans each move; a move takes `bytes / bandwidth` of virtual time. */
  private async retireOne(w: SimWorker): Promise<RetireOutcome> {
    let moved = 0;
    for (;;) {
      const step = retirementStep(this.model, w);
      if (step.kind === 'gone') return { name: w.name, status: 'retired', movedBytes: moved, reason: 'disconnected while retiring' };
      if (step.kind === 'clear') break;
      if (step.kind === 'kept') {
        this.schedule();
        this.arm();
        return { name: w.name, status: 'kept', reason: step.reason, ...(moved > 0 ? { movedBytes: moved } : {}) };
      }
      const copyMs = (step.bytes / this.options.bandwidth) * 1000;
      if (copyMs > 0) await firstValueFrom(timer(copyMs, this.rx));
      if (step.to.gone || step.to.status !== 'running') continue;
      // Released meanwhile, or already copied by a concurrent retirement: nothing to move.
      moved += this.model.addReplicas(step.to, step.tasks).movedBytes;
    }
    this.statsValue.bytesMoved += moved;
    // Its unique results are safe elsewhere: what it still runs starts over on another worker.
    this.statsValue.resultsLost += this.model.removeWorker(w).length;
    this.schedule();
    this.arm();
    return { name: w.name, status: 'retired', movedBytes: moved };
  }

  private seconds(ms: number): number {
    return (ms - this.origin) / 1000;
  }
}
