import type { SchedulerEvent, WorkerAddedEvent } from '../contracts/SchedulerEvent.js';
import type { WorkerStatus } from '../contracts/WorkerInfo.js';
import { FreeSlotIndex, type SlotIndexed } from './FreeSlotIndex.js';
import { pickWorker } from './placement.js';
import type { ModelTask, ModelTaskStatus, ModelWorker, ModelWorkerIdentity } from './records.js';

/** A task as the model keeps it (hosts see it read-only, as `ModelTask`). */
interface TaskState<T, W> {
  key: string;
  prefix: string;
  status: ModelTaskStatus;
  run: number;
  worker: WorkerState<T, W> | undefined;
  startedAt: number;
  holders: Set<WorkerState<T, W>>;
  nbytes: number;
  resources?: Record<string, number>;
  /** `resources` as a key, so a pass over the queue tries each kind of restriction once. */
  needsKey?: string;
  data: T;
}

/** A worker as the model keeps it (hosts see it read-only, as `ModelWorker`). */
interface WorkerState<T, W> extends ModelWorkerIdentity, SlotIndexed {
  status: WorkerStatus;
  processing: Map<number, TaskState<T, W>>;
  has: Set<TaskState<T, W>>;
  nbytes: number;
  gone: boolean;
  data: W;
}

export interface SchedulingModelOptions<T = unknown, W = unknown> {
  /** Receives every event, in order, as the state changes. */
  emit(event: SchedulerEvent): void;
  /**
   * Called after each assignment, after its `processing` event: send the work to the worker, or
   * plan when it ends.
   */
  assigned?(task: ModelTask<T, W>, worker: ModelWorker<T, W>): void;
  /**
   * What becomes of a result whose every holder is gone without it being moved. Either way the
   * task first emits `released` (its result no longer exists). `recompute`: it is queued again at
   * once (a client still holds it: the simulator). `keep`: it stays `lost` until the host calls
   * `recompute` (the embedded scheduler recomputes what a gather asks for).
   */
  lostResults: 'recompute' | 'keep';
  /**
   * Whether anyone receives the events now (default: always). While it says no, the model builds
   * none (the state changes all the same): a host whose subscribers come later gives them
   * `replay()` first, as the simulated scheduler does — its static baselines read the model's
   * counts and listen to nothing.
   */
  listening?(): boolean;
}

/** Result of `addReplicas`. */
export interface ReplicaResult<T = unknown, W = unknown> {
  /** Bytes of the results the recipient did not hold before. */
  movedBytes: number;
  /** Copies of results that are no longer in memory (released, lost): the recipient may drop them. */
  unwanted: Array<ModelTask<T, W>>;
}

/**
 * One model of a task scheduler, shared by the embedded scheduler (which wraps it in a protocol
 * and connections) and the simulator (which drives it from its event queue): a FIFO ready queue,
 * assignment to the `running` worker with the most free thread slots, the workers holding each
 * result, the results only one worker holds, and what a worker's loss does. Everything it changes
 * is reported through `emit` as the core's `SchedulerEvent`s, so a `SchedulerStateStore` fed by
 * them sees exactly this state.
 *
 * Pure: no timers, no clock, no I/O. Time is passed in (milliseconds, on the host's clock) where
 * it is recorded; the host decides when to `schedule`, sends the work, moves the data and reports
 * what its workers say.
 *
 * Runs: each assignment of a task gets a new run id. A report about any other run than the
 * task's current one (it was released, re-queued or lost since) is stale and changes nothing but
 * the worker's free slots: a run occupies its slot until reported, as a thread cannot be
 * interrupted.
 */
export class SchedulingModel<T = unknown, W = unknown> {
  private readonly workersByName = new Map<string, WorkerState<T, W>>();
  private readonly tasksByKey = new Map<string, TaskState<T, W>>();
  /** FIFO of queued tasks (a Set keeps insertion order and deletes in O(1)). */
  private readonly queue = new Set<TaskState<T, W>>();
  private runs = 0;
  private processingTasks = 0;
  private registered = 0;
  /** Running workers with a free slot, in placement order (`pickWorker`'s, kept as runs start and end). */
  private readonly free = new FreeSlotIndex<WorkerState<T, W>>();

  constructor(private readonly options: SchedulingModelOptions<T, W>) {}

  /** Workers connected, in registration order. */
  get workerCount(): number {
    return this.workersByName.size;
  }

  /** Tasks submitted and not released (in any state). */
  get taskCount(): number {
    return this.tasksByKey.size;
  }

  /** Tasks whose current run is in flight. */
  get processingCount(): number {
    return this.processingTasks;
  }

  /** Tasks waiting for a free slot. */
  get queuedCount(): number {
    return this.queue.size;
  }

  worker(name: string): ModelWorker<T, W> | undefined {
    return this.workersByName.get(name);
  }

  /** Connected workers in registration order (the order ties are broken by). */
  workers(): IterableIterator<ModelWorker<T, W>> {
    return this.workersByName.values();
  }

  /** The task of `key`, until it is released. */
  task(key: string): ModelTask<T, W> | undefined {
    return this.tasksByKey.get(key);
  }

  /** Tasks not released, in submission order. */
  tasks(): IterableIterator<ModelTask<T, W>> {
    return this.tasksByKey.values();
  }

  // ---------------------------------------------------------------- workers

  /**
   * A worker connected: `running`, holding nothing. Emits `worker.added`.
   *
   * @throws Error if a worker of that name is connected (hosts refuse or ignore duplicates first).
   */
  addWorker(identity: ModelWorkerIdentity, data: W): ModelWorker<T, W> {
    if (this.workersByName.has(identity.name)) throw new Error(`a worker named "${identity.name}" is already in the model`);
    const w: WorkerState<T, W> = {
      name: identity.name,
      nthreads: identity.nthreads,
      memoryLimit: identity.memoryLimit,
      address: identity.address,
      host: identity.host,
      labels: { ...identity.labels },
      ...(identity.resources && Object.keys(identity.resources).length ? { resources: { ...identity.resources } } : {}),
      status: 'running',
      processing: new Map(),
      has: new Set(),
      nbytes: 0,
      gone: false,
      data,
      seq: ++this.registered,
      slotBucket: 0,
      slotPos: -1,
    };
    this.workersByName.set(w.name, w);
    this.refile(w);
    if (this.heard()) this.emit({ type: 'worker.added', worker: this.info(w) });
    return w;
  }

  /** `closing` stops assignments to it (and makes it no recipient); `running` resumes them. */
  setStatus(worker: ModelWorker<T, W>, status: WorkerStatus): void {
    const w = worker as WorkerState<T, W>;
    if (w.status === status || w.gone) return;
    w.status = status;
    this.refile(w);
    if (this.heard()) this.emit({ type: 'worker.updated', name: w.name, status });
  }

  /**
   * The worker is gone (disconnected, crashed, or retired once its unique results were copied):
   * what it was running is queued again, and each result only it held is lost (see
   * `lostResults`). Emits `worker.removed` last. Returns the results lost.
   */
  removeWorker(worker: ModelWorker<T, W>): Array<ModelTask<T, W>> {
    const w = worker as WorkerState<T, W>;
    if (w.gone) return [];
    w.gone = true;
    this.workersByName.delete(w.name);
    this.requeueRunsOf(w);
    w.processing.clear();
    this.refile(w);
    const lost: Array<ModelTask<T, W>> = [];
    for (const t of w.has) {
      t.holders.delete(w);
      if (t.holders.size === 0 && t.status === 'memory') {
        this.lose(t);
        lost.push(t);
      }
    }
    w.has.clear();
    w.nbytes = 0;
    if (this.heard()) this.emit({ type: 'worker.removed', name: w.name });
    return lost;
  }

  /**
   * Queues again the tasks whose current run is on `worker` (a retiring worker that holds nothing
   * unique any more: nothing it computes from now on counts). Their runs keep their slots.
   */
  requeueRunsOf(worker: ModelWorker<T, W>): void {
    const w = worker as WorkerState<T, W>;
    for (const [run, t] of w.processing) {
      if (isCurrentRun(t, w, run)) this.requeue(t);
    }
  }

  // ---------------------------------------------------------------- tasks

  /**
   * A new task, at the back of the queue. Emits `queued` with its prefix (and its resource
   * restrictions: only workers offering `resources` run it).
   *
   * @throws Error if `key` is already known (hosts decide what a second submit means first).
   */
  submit(key: string, prefix: string, data: T, resources?: Readonly<Record<string, number>>): ModelTask<T, W> {
    if (this.tasksByKey.has(key)) throw new Error(`task "${key}" is already in the model`);
    const t: TaskState<T, W> = { key, prefix, status: 'queued', run: 0, worker: undefined, startedAt: 0, holders: new Set(), nbytes: 0, data };
    if (resources && Object.keys(resources).length) {
      t.resources = { ...resources };
      t.needsKey = JSON.stringify(Object.entries(resources).sort());
    }
    this.tasksByKey.set(key, t);
    this.queue.add(t);
    if (this.heard()) this.emit({ type: 'task.transition', key, prefix, to: 'queued', ...(t.resources ? { resources: { ...t.resources } } : {}) });
    return t;
  }

  /**
   * Assigns queued tasks, oldest first, each to the running worker with the most free slots
   * (ties: registration order), until the queue is empty or no slot is free. `now` is recorded as
   * each run's start. Returns how many were assigned.
   */
  schedule(now: number): number {
    let assigned = 0;
    // A task with restrictions no worker can take now waits without holding up the tasks behind
    // it; once one kind of restriction found no worker, the rest of that kind are skipped.
    let blocked: Set<string> | undefined;
    for (const t of this.queue) {
      if (t.needsKey !== undefined && blocked?.has(t.needsKey)) continue;
      const w = this.place(t.resources);
      if (!w) {
        if (t.needsKey === undefined) break;
        (blocked ??= new Set()).add(t.needsKey);
        continue;
      }
      this.queue.delete(t);
      this.assign(t, w, now);
      assigned++;
    }
    return assigned;
  }

  /**
   * `worker` reports run `run` done, its result (`nbytes`) stored there. Returns the task if that
   * was its current run (now `memory`, emitted with `duration`, then the worker's `nbytes`), or
   * undefined for a stale report (its slot is freed all the same). With `key`, a report naming
   * another task than the run's is stale too.
   */
  finished(worker: ModelWorker<T, W>, run: number, result: { key?: string; nbytes: number; duration: number }): ModelTask<T, W> | undefined {
    const w = worker as WorkerState<T, W>;
    const t = this.endRun(w, run, result.key);
    if (!t) return undefined;
    t.status = 'memory';
    t.nbytes = result.nbytes;
    t.holders.add(w);
    w.has.add(t);
    w.nbytes += result.nbytes;
    if (this.heard()) this.emit({ type: 'task.transition', key: t.key, to: 'memory', duration: result.duration });
    if (this.heard()) this.emit({ type: 'worker.updated', name: w.name, nbytes: w.nbytes });
    return t;
  }

  /** `worker` reports run `run` failed. Returns the task (now `erred`) or undefined if stale. */
  erred(worker: ModelWorker<T, W>, run: number, key?: string): ModelTask<T, W> | undefined {
    const t = this.endRun(worker as WorkerState<T, W>, run, key);
    if (!t) return undefined;
    t.status = 'erred';
    if (this.heard()) this.emit({ type: 'task.transition', key: t.key, to: 'erred' });
    return t;
  }

  /** A heartbeat saw run `run` of `key` executing for `elapsed` seconds (ignored if stale). */
  executing(worker: ModelWorker<T, W>, run: number, key: string, elapsed: number): void {
    const w = worker as WorkerState<T, W>;
    const t = w.processing.get(run);
    if (t && t.key === key && isCurrentRun(t, w, run) && this.heard()) this.emit({ type: 'task.executing', prefix: t.prefix, elapsed });
  }

  /**
   * What a heartbeat of every worker would report at `now`: per prefix, the longest any current
   * run has been executing (seconds since its start), one `task.executing` each.
   */
  reportExecuting(now: number): void {
    // Only events come of it.
    if (!this.heard()) return;
    const longest = new Map<string, number>();
    for (const w of this.workersByName.values()) {
      for (const [run, t] of w.processing) {
        if (t.run !== run || t.status !== 'processing') continue;
        const elapsed = (now - t.startedAt) / 1000;
        if (elapsed > (longest.get(t.prefix) ?? 0)) longest.set(t.prefix, elapsed);
      }
    }
    for (const [prefix, elapsed] of longest) this.emit({ type: 'task.executing', prefix, elapsed });
  }

  /**
   * Nobody wants `key` any more: the task is forgotten in whatever state (a run in flight keeps
   * its slot until reported), each holder's bytes drop. Emits each holder's `nbytes`, then
   * `released`. Returns the workers that held the result (to free it there), or undefined for an
   * unknown key.
   */
  release(key: string): Array<ModelWorker<T, W>> | undefined {
    const t = this.tasksByKey.get(key);
    if (!t) return undefined;
    if (t.status === 'processing') this.processingTasks--;
    t.status = 'released';
    t.worker = undefined;
    this.queue.delete(t);
    this.tasksByKey.delete(key);
    const holders = [...t.holders];
    for (const h of holders) {
      h.has.delete(t);
      h.nbytes -= t.nbytes;
      if (!h.gone && this.heard()) this.emit({ type: 'worker.updated', name: h.name, nbytes: h.nbytes });
    }
    t.holders.clear();
    if (this.heard()) this.emit({ type: 'task.transition', key, to: 'released' });
    return holders;
  }

  /** Queues a `lost` task again (at the back), emitting `queued` with its prefix. */
  recompute(task: ModelTask<T, W>): void {
    const t = task as TaskState<T, W>;
    if (t.status === 'lost') this.requeue(t);
  }

  // ---------------------------------------------------------------- replicas

  /**
   * `worker` turned out not to hold `key` (it said so). Returns the task if that made it lost
   * (no other holder; see `lostResults`).
   */
  dropReplica(worker: ModelWorker<T, W>, key: string): ModelTask<T, W> | undefined {
    const w = worker as WorkerState<T, W>;
    const t = this.tasksByKey.get(key);
    if (!t || !w.has.delete(t)) return undefined;
    w.nbytes -= t.nbytes;
    if (!w.gone && this.heard()) this.emit({ type: 'worker.updated', name: w.name, nbytes: w.nbytes });
    t.holders.delete(w);
    if (t.holders.size > 0 || t.status !== 'memory') return undefined;
    this.lose(t);
    return t;
  }

  /**
   * `to` now holds copies of `tasks` (a retirement moved them). Results no longer in memory are
   * returned as unwanted; ones it already held count nothing. Emits `to`'s `nbytes` once.
   */
  addReplicas(to: ModelWorker<T, W>, tasks: Iterable<ModelTask<T, W>>): ReplicaResult<T, W> {
    const w = to as WorkerState<T, W>;
    let movedBytes = 0;
    const unwanted: Array<ModelTask<T, W>> = [];
    for (const task of tasks) {
      const t = task as TaskState<T, W>;
      if (t.status !== 'memory') {
        unwanted.push(t);
        continue;
      }
      if (t.holders.has(w)) continue;
      t.holders.add(w);
      w.has.add(t);
      w.nbytes += t.nbytes;
      movedBytes += t.nbytes;
    }
    if (!w.gone && this.heard()) this.emit({ type: 'worker.updated', name: w.name, nbytes: w.nbytes });
    return { movedBytes, unwanted };
  }

  /**
   * Results that would be lost with `worker`: no other holder outside a retirement has them (two
   * workers retired together may hold the only two copies). In the order it came to hold them.
   */
  uniqueResultsOf(worker: ModelWorker<T, W>): Array<ModelTask<T, W>> {
    const w = worker as WorkerState<T, W>;
    const out: Array<ModelTask<T, W>> = [];
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

  // ---------------------------------------------------------------- events

  /**
   * The current state as events, for a new subscriber: `worker.added` per worker (registration
   * order), then a transition per queued or processing task (submission order).
   */
  replay(): SchedulerEvent[] {
    const events: SchedulerEvent[] = [];
    for (const w of this.workersByName.values()) events.push({ type: 'worker.added', worker: this.info(w) });
    for (const t of this.tasksByKey.values()) {
      const needs = t.resources ? { resources: { ...t.resources } } : {};
      if (t.status === 'queued') events.push({ type: 'task.transition', key: t.key, prefix: t.prefix, to: 'queued', ...needs });
      else if (t.status === 'processing') events.push({ type: 'task.transition', key: t.key, prefix: t.prefix, to: 'processing', worker: t.worker!.name, ...needs });
    }
    return events;
  }

  private info(w: WorkerState<T, W>): WorkerAddedEvent['worker'] {
    return {
      name: w.name,
      address: w.address,
      host: w.host,
      nthreads: w.nthreads,
      memoryLimit: w.memoryLimit,
      nbytes: w.nbytes,
      status: w.status,
      labels: { ...w.labels },
      ...(w.resources ? { resources: { ...w.resources } } : {}),
    };
  }

  /**
   * `pickWorker` over the workers in registration order: for a task without restrictions, read
   * from the index (kept in O(log W) per run started or ended); one with restrictions scans, as
   * only the workers offering them qualify (and `schedule` tries each kind once per pass).
   */
  private place(needs: Readonly<Record<string, number>> | undefined): WorkerState<T, W> | undefined {
    return needs ? pickWorker(this.workersByName.values(), needs) : this.free.first();
  }

  /** Files `w` in the placement index by its free slots now (out of it unless running). */
  private refile(w: WorkerState<T, W>): void {
    this.free.set(w, !w.gone && w.status === 'running' ? w.nthreads - w.processing.size : 0);
  }

  private heard(): boolean {
    return this.options.listening?.() ?? true;
  }

  private emit(e: SchedulerEvent): void {
    this.options.emit(e);
  }

  // ---------------------------------------------------------------- internals

  private assign(t: TaskState<T, W>, w: WorkerState<T, W>, now: number): void {
    t.status = 'processing';
    t.worker = w;
    t.run = ++this.runs;
    t.startedAt = now;
    w.processing.set(t.run, t);
    this.refile(w);
    this.processingTasks++;
    if (this.heard()) this.emit({ type: 'task.transition', key: t.key, to: 'processing', worker: w.name });
    this.options.assigned?.(t, w);
  }

  /** Frees run `run`'s slot; returns its task if that was the current run (no longer processing). */
  private endRun(w: WorkerState<T, W>, run: number, key: string | undefined): TaskState<T, W> | undefined {
    const t = w.processing.get(run);
    if (!t) return undefined;
    w.processing.delete(run);
    this.refile(w);
    if ((key !== undefined && t.key !== key) || !isCurrentRun(t, w, run)) return undefined;
    this.processingTasks--;
    t.worker = undefined;
    return t;
  }

  private requeue(t: TaskState<T, W>): void {
    if (t.status === 'processing') this.processingTasks--;
    t.status = 'queued';
    t.worker = undefined;
    this.queue.add(t);
    // With the prefix (and restrictions): a store forgets a task once it is released, so a recomputed one is new to it.
    if (this.heard()) this.emit({ type: 'task.transition', key: t.key, prefix: t.prefix, to: 'queued', ...(t.resources ? { resources: { ...t.resources } } : {}) });
  }

  private lose(t: TaskState<T, W>): void {
    t.status = 'lost';
    if (this.heard()) this.emit({ type: 'task.transition', key: t.key, to: 'released' });
    if (this.options.lostResults === 'recompute') this.requeue(t);
  }
}

function isCurrentRun<T, W>(t: TaskState<T, W>, w: WorkerState<T, W>, run: number): boolean {
  return t.status === 'processing' && t.worker === w && t.run === run;
}
