import type { SchedulerEvent, TaskState } from '../contracts/SchedulerEvent.js';
import type { ResourceTasks, SchedulerSnapshot, SnapshotTotals } from '../contracts/SchedulerSnapshot.js';
import type { TaskPrefixInfo } from '../contracts/TaskPrefixInfo.js';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { ClosingGroup, WorkersToCloseView } from '../contracts/WorkersToCloseView.js';
import { ClosingIndex } from './ClosingIndex.js';
import { keySplit } from './keySplit.js';
import { MAX_PREFIXES, PROCESSING, QUEUED, TaskTable, type Tracked, UNRUNNABLE } from './TaskTable.js';
import { type WorkerState, busy } from './WorkerState.js';

interface PrefixState {
  id: number;
  name: string;
  durationAverage: number;
  maxExecTime: number;
  queued: number;
  unrunnable: number;
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

/** Closing orders kept at once (one per worker key asked for: the heuristic's, the strategy's); the least recently used goes. */
const MAX_INDEXES = 4;

/** The parts of a snapshot besides its workers, shared (frozen) by snapshots of one state. */
interface SnapshotParts {
  version: number;
  prefixes: Record<string, TaskPrefixInfo>;
  totals: SnapshotTotals;
  resources: Record<string, ResourceTasks> | undefined;
}

/**
 * Turns scheduler events into the aggregates a decision needs, incrementally: each event costs
 * O(1) (a snapshot event costs its size). A snapshot of an unchanged state costs O(1) — its
 * frozen parts are shared with the previous one — and one after changes O(workers changed +
 * workers + prefixes). Only tasks that are queued, unrunnable or processing are remembered, in
 * compact storage (`TaskTable`); finished ones are forgotten.
 *
 * The closing order of `workers_to_close` is kept too, per worker key (`closingOrder`): workers
 * changed since the last decision are re-placed in O(log W) each when a decision asks, so the
 * scale-down path reads only the groups it closes (see `WorkersToCloseView`).
 */
export class SchedulerStateStore {
  private readonly workers = new Map<string, WorkerState>();
  /** Workers by id, as tasks reference them (removed ones stay while tasks point at them). */
  private readonly byId: Array<WorkerState | undefined> = [];
  private readonly freeIds: number[] = [];
  private seq = 0;
  /** Stamp of the current poll, to match its workers without a set. */
  private marks = 0;
  private readonly prefixes = new Map<string, PrefixState>();
  private readonly prefixById: PrefixState[] = [];
  private readonly tasks = new TaskTable();
  private readonly defaults: Record<string, number>;
  private totals = { queued: 0, unrunnable: 0, processing: 0 };
  /** Sums over connected workers, kept in step with every change (see `SnapshotTotals`). */
  private readonly sums = { nthreads: 0, memoryLimit: 0, nbytes: 0 };
  /** Connected workers without any task, long-running ones included. */
  private idle = 0;
  private readonly processingByPrefix = new Map<string, number>();
  /** Per resource name: the tracked tasks that need it. */
  private readonly resourceCounts = new Map<string, ResourceCount>();
  /** What the last full snapshot (a polling adapter's) said about resources. */
  private snapshotResources?: Record<string, ResourceTasks>;
  /** Bumped by every change of what a snapshot shows; a snapshot's closing order is valid while it holds. */
  private version = 0;
  /** Closing orders by worker key (undefined: each worker its own group), least recently used first. */
  private readonly indexes = new Map<WorkerKey | undefined, ClosingIndex>();
  private indexBits = 0;
  /** The last view of each order, handed out again while it shows the same (strategies may memoize per view). */
  private readonly views = new WeakMap<ClosingIndex, { view: WorkersToCloseView; revision: number; membership: number; idle: number }>();
  /** Bumped when a worker connects or leaves (what `has` answers). */
  private membership = 0;
  private names: { membership: number; list: readonly string[] } | undefined;
  /** The frozen worker list of the last snapshot, while no worker changed. */
  private workerList: WorkerInfo[] | undefined;
  /** The last list built, and the workers changed since (each once); reused while no worker joined or left. */
  private lastList: WorkerInfo[] | undefined;
  private readonly relist: WorkerState[] = [];
  private parts: SnapshotParts | undefined;
  /** False while the adapter has lost its scheduler; decisions must not shrink the cluster then. */
  connected = true;

  constructor(options: SchedulerStateStoreOptions = {}) {
    this.defaults = options.defaultTaskDurations ?? {};
  }

  apply(event: SchedulerEvent): void {
    if (event.type === 'connection') {
      this.connected = event.connected;
      return;
    }
    this.version++;
    switch (event.type) {
      case 'snapshot':
        this.replace(event.snapshot);
        return;
      case 'worker.added': {
        const { processing, longRunning, ...info } = event.worker;
        this.removeWorker(info.name);
        this.addWorker({ ...info, labels: { ...(info.labels ?? {}) } }, processing ?? {}, longRunning ?? 0);
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
        if (event.labels !== undefined) {
          ws.info.labels = { ...event.labels };
          ws.labels = undefined;
        }
        this.changed(ws);
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
        const slot = this.tasks.find(event.key);
        if (slot < 0 || this.tasks.state(slot) !== PROCESSING || this.tasks.longRunning(slot)) return;
        const ws = this.byId[this.tasks.worker(slot)]!;
        if (ws.alive) {
          this.leave(slot);
          this.tasks.setLongRunning(slot);
          this.enter(slot);
        } else this.tasks.setLongRunning(slot);
        if (event.computeDuration !== undefined) {
          const p = this.prefixById[this.tasks.prefix(slot)]!;
          const old = p.durationAverage;
          p.durationAverage = old < 0 ? event.computeDuration : (old + event.computeDuration) / 2;
        }
        return;
      }
    }
  }

  /** Names of connected workers, in registration order. */
  workerNames(): string[] {
    return [...this.workers.keys()];
  }

  /**
   * The same names, frozen and shared while no worker joins or leaves: a caller that is handed
   * the same list again (the loop's observation of arrivals) knows nothing changed without a walk.
   */
  connectedNames(): readonly string[] {
    if (this.names?.membership !== this.membership) this.names = { membership: this.membership, list: Object.freeze([...this.workers.keys()]) };
    return this.names.list;
  }

  /** A connected worker as the current snapshot shows it (the same frozen object), or undefined. */
  worker(name: string): WorkerInfo | undefined {
    const ws = this.workers.get(name);
    return ws && (ws.cached ??= this.freeze(ws));
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
   * while the worker does not change; the worker list, prefixes and totals are frozen and shared
   * while nothing changes. The snapshot carries its closing order (`closingOrder`, not enumerable).
   */
  snapshot(time: number): SchedulerSnapshot {
    const workers = (this.workerList ??= this.listWorkers());
    let parts = this.parts;
    if (!parts || parts.version !== this.version) parts = this.parts = this.snapshotParts();
    const { prefixes, totals, resources } = parts;
    const snapshot: SchedulerSnapshot = resources ? { time, workers, prefixes, totals, resources } : { time, workers, prefixes, totals };
    const version = this.version;
    Object.defineProperty(snapshot, 'closingOrder', { value: (key?: WorkerKey) => (this.version === version ? this.closingOrder(key) : undefined) });
    return snapshot;
  }

  /**
   * The connected workers in Dask's closing order for `key` (each worker its own group when
   * absent), as of now. The first call for a key builds the order (O(W log W)); later calls fold
   * in the workers changed since (O(log W) each). Valid until the next event.
   */
  closingOrder(key?: WorkerKey): WorkersToCloseView {
    let index = this.indexes.get(key);
    if (index) {
      // Most recently used last.
      this.indexes.delete(key);
      this.indexes.set(key, index);
    } else index = this.createIndex(key);
    try {
      index.flush();
    } catch (e) {
      // A worker key threw: forget the half-updated order.
      this.dropIndex(key, index);
      throw e;
    }
    const last = this.views.get(index);
    if (last && last.revision === index.revision && last.membership === this.membership && last.idle === this.idle) return last.view;
    const view = this.view(index);
    this.views.set(index, { view, revision: index.revision, membership: this.membership, idle: this.idle });
    return view;
  }

  /** A view of one order as it is now; reading it once the order or the worker set changed throws. */
  private view(order: ClosingIndex): WorkersToCloseView {
    const { revision } = order;
    const { membership, workers } = this;
    const current = () => {
      if (order.revision !== revision || this.membership !== membership) throw new Error('a WorkersToCloseView was read after its state store changed');
    };
    return Object.freeze({
      workerCount: workers.size,
      idleWorkers: this.idle,
      candidateMemoryLimit: order.candidateMemoryLimit,
      candidateBytes: order.candidateBytes,
      has: (name: string) => {
        current();
        return workers.has(name);
      },
      walk: (visit: (g: ClosingGroup) => boolean) => {
        current();
        order.walk(visit);
      },
    });
  }

  private createIndex(key: WorkerKey | undefined): ClosingIndex {
    if (this.indexes.size >= MAX_INDEXES) {
      const [oldKey, old] = this.indexes.entries().next().value!;
      this.dropIndex(oldKey, old);
    }
    let bit = 1;
    while (this.indexBits & bit) bit <<= 1;
    const index = new ClosingIndex(bit, key, (ws) => (ws.cached ??= this.freeze(ws)));
    this.indexes.set(key, index);
    this.indexBits |= bit;
    try {
      for (const ws of this.workers.values()) index.update(ws);
    } catch (e) {
      this.dropIndex(key, index);
      throw e;
    }
    return index;
  }

  private dropIndex(key: WorkerKey | undefined, index: ClosingIndex): void {
    index.release();
    this.indexes.delete(key);
    this.indexBits &= ~index.bit;
  }

  /** The worker list: the last one with the changed workers replaced, or, after a join or a leave, built anew. */
  private listWorkers(): WorkerInfo[] {
    let out: WorkerInfo[];
    if (this.lastList) {
      out = Array.from(this.lastList);
      for (const ws of this.relist) {
        ws.relist = false;
        out[ws.pos] = ws.cached ??= this.freeze(ws);
      }
    } else {
      for (const ws of this.relist) ws.relist = false;
      out = new Array<WorkerInfo>(this.workers.size);
      let i = 0;
      for (const ws of this.workers.values()) {
        ws.pos = i;
        out[i++] = ws.cached ??= this.freeze(ws);
      }
    }
    this.relist.length = 0;
    // Not frozen: V8 iterates frozen arrays on slow paths (for-of, filter). Shared by the snapshots
    // of one state, like the frozen worker objects in it; decisions never modify a snapshot.
    this.lastList = out;
    return out;
  }

  private snapshotParts(): SnapshotParts {
    const prefixes: Record<string, TaskPrefixInfo> = {};
    for (const p of this.prefixes.values()) {
      prefixes[p.name] = Object.freeze({ durationAverage: p.durationAverage, maxExecTime: p.maxExecTime, queued: p.queued, unrunnable: p.unrunnable });
    }
    const totals: SnapshotTotals = Object.freeze({
      processing: Object.freeze(Object.fromEntries(this.processingByPrefix)),
      workerTasks: this.totals.processing,
      ...this.sums,
    });
    return { version: this.version, prefixes: Object.freeze(prefixes), totals, resources: this.resourceTasks() };
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
    if (!Object.keys(out).length) return undefined;
    for (const r of Object.values(out)) Object.freeze(Object.freeze(r).units);
    return Object.freeze(out);
  }

  private countResources(needs: Record<string, number>, prefix: string, state: Tracked, sign: 1 | -1): void {
    for (const r in needs) {
      const amount = needs[r]!;
      let c = this.resourceCounts.get(r);
      if (!c) this.resourceCounts.set(r, (c = { waiting: 0, processing: 0, units: new Map() }));
      if (state === PROCESSING) c.processing += sign;
      else c.waiting += sign;
      const u = (c.units.get(prefix) ?? 0) + sign * amount;
      if (u <= 0) c.units.delete(prefix);
      else c.units.set(prefix, u);
      if (c.waiting === 0 && c.processing === 0) this.resourceCounts.delete(r);
    }
  }

  /** A connected worker changed: its snapshot object, the worker list and every closing order must see it. */
  private changed(ws: WorkerState): void {
    ws.cached = undefined;
    this.workerList = undefined;
    if (!ws.relist) {
      ws.relist = true;
      this.relist.push(ws);
    }
    if (ws.dirty !== this.indexBits) this.queue(ws);
  }

  /** A worker joined or left: positions in the worker list move. */
  private reshaped(): void {
    this.membership++;
    this.workerList = undefined;
    this.lastList = undefined;
  }

  private queue(ws: WorkerState): void {
    for (const index of this.indexes.values()) if (!(ws.dirty & index.bit)) index.queue(ws);
  }

  private addWorker(info: WorkerState['info'], processing: Record<string, number>, longRunning: number): void {
    const id = this.freeIds.pop() ?? this.byId.length;
    const ws: WorkerState = {
      info,
      processing: new Map(Object.entries(processing)),
      positive: 0,
      longRunning,
      alive: true,
      seq: this.seq++,
      id,
      refs: 0,
      dirty: 0,
      cached: undefined,
      pos: -1,
      relist: false,
      mark: 0,
      labels: undefined,
    };
    for (const n of ws.processing.values()) if (n > 0) ws.positive += n;
    this.byId[id] = ws;
    this.workers.set(info.name, ws);
    this.reshaped();
    this.count(ws, 1);
    this.changed(ws);
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

  /**
   * The worker as a snapshot shows it. These objects outlive ticks (shared until the worker
   * changes), so they are built small: `Object.assign` gives a third of the bytes of a spread
   * copy, with the same key order, and the frozen labels are kept until the labels change.
   */
  private freeze(ws: WorkerState): WorkerInfo {
    const processing: Record<string, number> = {};
    for (const [p, n] of ws.processing) if (n > 0) processing[p] = n;
    Object.freeze(processing);
    const info = Object.assign({}, ws.info) as WorkerInfo;
    info.labels = ws.labels ??= Object.freeze({ ...ws.info.labels });
    info.processing = processing;
    info.longRunning = ws.longRunning;
    return Object.freeze(info);
  }

  private prefix(name: string): PrefixState {
    let p = this.prefixes.get(name);
    if (!p) {
      if (this.prefixById.length >= MAX_PREFIXES) throw new RangeError(`more than ${MAX_PREFIXES} task prefixes`);
      const seeded = this.defaults[name];
      p = { id: this.prefixById.length, name, durationAverage: seeded ?? -1, maxExecTime: -1, queued: 0, unrunnable: 0 };
      this.prefixes.set(name, p);
      this.prefixById.push(p);
    }
    return p;
  }

  private removeWorker(name: string): void {
    const ws = this.workers.get(name);
    if (!ws) return;
    this.changed(ws);
    this.count(ws, -1);
    ws.alive = false;
    this.workers.delete(name);
    this.reshaped();
    this.release(ws);
  }

  /** Frees a removed worker's id once no tracked task points at it. */
  private release(ws: WorkerState): void {
    if (ws.alive || ws.refs > 0 || this.byId[ws.id] !== ws) return;
    this.byId[ws.id] = undefined;
    this.freeIds.push(ws.id);
  }

  /**
   * A polling adapter's full state. When the workers it lists are the connected ones in the same
   * registration order (new ones at the end), which is what a poll gives, the workers are updated
   * in place: unchanged ones keep their frozen snapshot object and their place in every closing
   * order, so the decision after a poll costs what changed, not a rebuild. Otherwise the store
   * starts over from the snapshot.
   */
  private replace(s: SchedulerSnapshot): void {
    const hadTasks = this.tasks.size > 0;
    this.tasks.clear();
    this.resourceCounts.clear();
    this.snapshotResources = s.resources && Object.keys(s.resources).length ? s.resources : undefined;
    if (!this.updateInPlace(s.workers, hadTasks)) this.rebuildWorkers(s.workers);
    // Learned durations survive a reconnect; counts come from the new state.
    this.totals.queued = this.totals.unrunnable = 0;
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

  private rebuildWorkers(list: readonly WorkerInfo[]): void {
    for (const ws of this.workers.values()) ws.alive = false;
    for (const [key, index] of [...this.indexes]) this.dropIndex(key, index);
    this.workers.clear();
    this.reshaped();
    this.byId.length = 0;
    this.freeIds.length = 0;
    this.totals.processing = 0;
    this.sums.nthreads = this.sums.memoryLimit = this.sums.nbytes = 0;
    this.idle = 0;
    this.processingByPrefix.clear();
    for (const w of list) {
      const { processing, longRunning, ...info } = w;
      this.addWorker({ ...info, labels: { ...info.labels } }, processing, longRunning);
    }
  }

  /**
   * Applies a full worker list to the connected workers when their order allows (false when it
   * does not): O(W) comparisons, and the sums, orders and snapshot objects change only for the
   * workers that did.
   */
  private updateInPlace(list: readonly WorkerInfo[], hadTasks: boolean): boolean {
    const mark = ++this.marks;
    let last = -1;
    let matched = 0;
    let fresh: Set<string> | undefined;
    for (const w of list) {
      const ws = this.workers.get(w.name);
      if (!ws) {
        if ((fresh ??= new Set()).has(w.name)) return false;
        fresh.add(w.name);
        continue;
      }
      // Listed twice, after a new worker, or out of registration order: not a later state of these workers.
      if (ws.mark === mark || fresh || ws.seq < last) return false;
      ws.mark = mark;
      last = ws.seq;
      matched++;
    }
    if (matched < this.workers.size) for (const ws of [...this.workers.values()]) if (ws.mark !== mark) this.removeWorker(ws.info.name);
    if (hadTasks) {
      // The tracked tasks are gone (a snapshot has none): removed workers can give their ids back.
      for (const ws of this.byId) {
        if (!ws) continue;
        ws.refs = 0;
        this.release(ws);
      }
    }
    for (const w of list) {
      const ws = this.workers.get(w.name);
      if (ws && sameWorker(ws, w)) continue;
      const { processing, longRunning, ...info } = w;
      if (!ws) this.addWorker({ ...info, labels: { ...info.labels } }, processing, longRunning);
      else {
        this.count(ws, -1);
        ws.info = { ...info, labels: { ...info.labels } };
        ws.labels = undefined;
        ws.processing = new Map(Object.entries(processing));
        ws.positive = 0;
        for (const n of ws.processing.values()) if (n > 0) ws.positive += n;
        ws.longRunning = longRunning;
        this.count(ws, 1);
        this.changed(ws);
      }
    }
    return true;
  }

  /** Adds (or takes back) what a connected worker contributes to the sums. */
  private count(ws: WorkerState, sign: 1 | -1): void {
    this.sumWorker(ws, sign);
    for (const [p, n] of ws.processing) {
      this.addProcessing(p, sign * n);
      this.totals.processing += sign * n;
    }
    this.totals.processing += sign * ws.longRunning;
    if (!busy(ws)) this.idle += sign;
  }

  private transition(key: string, prefixName: string | undefined, to: TaskState, worker: string | undefined, duration: number | undefined, needs?: Record<string, number>): void {
    const t = this.tasks;
    let slot = t.find(key);
    let prefix: PrefixState;
    if (slot >= 0) {
      this.leave(slot);
      prefix = this.prefixById[t.prefix(slot)]!;
    } else prefix = this.prefix(prefixName ?? keySplit(key));
    if (to === 'memory' && duration !== undefined && duration >= 0) {
      prefix.durationAverage = prefix.durationAverage < 0 ? duration : 0.5 * duration + 0.5 * prefix.durationAverage;
    }
    if (to === 'queued' || to === 'unrunnable' || to === 'processing') {
      const ws = to === 'processing' && worker !== undefined ? this.workers.get(worker) : undefined;
      // Assigned to a worker we do not know (yet): count it as waiting for a worker.
      const state: Tracked = to === 'queued' ? QUEUED : to === 'unrunnable' || !ws ? UNRUNNABLE : PROCESSING;
      const id = ws ? ws.id : -1;
      const given = needs && Object.keys(needs).length ? needs : undefined;
      if (slot >= 0) {
        t.set(slot, state, id);
        if (given && !t.resources(slot)) t.setResources(slot, { ...given });
      } else slot = t.add(key, prefix.id, state, id, given ? { ...given } : undefined);
      this.enter(slot);
    } else if (slot >= 0) {
      t.remove(key, slot);
    }
  }

  private leave(slot: number): void {
    const t = this.tasks;
    const state = t.state(slot);
    const prefix = this.prefixById[t.prefix(slot)]!;
    const needs = t.resources(slot);
    if (needs) this.countResources(needs, prefix.name, state, -1);
    switch (state) {
      case QUEUED:
        prefix.queued--;
        this.totals.queued--;
        return;
      case UNRUNNABLE:
        prefix.unrunnable--;
        this.totals.unrunnable--;
        return;
      case PROCESSING: {
        const ws = this.byId[t.worker(slot)]!;
        ws.refs--;
        if (!ws.alive) {
          this.release(ws);
          return;
        }
        const wasBusy = busy(ws);
        if (t.longRunning(slot)) ws.longRunning--;
        else {
          this.bump(ws, prefix.name, -1);
          this.addProcessing(prefix.name, -1);
        }
        this.totals.processing--;
        if (wasBusy !== busy(ws)) this.idle++;
        this.changed(ws);
        return;
      }
    }
  }

  private enter(slot: number): void {
    const t = this.tasks;
    const state = t.state(slot);
    const prefix = this.prefixById[t.prefix(slot)]!;
    const needs = t.resources(slot);
    if (needs) this.countResources(needs, prefix.name, state, 1);
    switch (state) {
      case QUEUED:
        prefix.queued++;
        this.totals.queued++;
        return;
      case UNRUNNABLE:
        prefix.unrunnable++;
        this.totals.unrunnable++;
        return;
      case PROCESSING: {
        // Only ever entered on a connected worker.
        const ws = this.byId[t.worker(slot)]!;
        ws.refs++;
        const wasBusy = busy(ws);
        if (t.longRunning(slot)) ws.longRunning++;
        else {
          this.bump(ws, prefix.name, 1);
          this.addProcessing(prefix.name, 1);
        }
        this.totals.processing++;
        if (wasBusy !== busy(ws)) this.idle--;
        this.changed(ws);
        return;
      }
    }
  }

  /** One more or one fewer task of `prefix` on a worker. */
  private bump(ws: WorkerState, prefix: string, delta: 1 | -1): void {
    const old = ws.processing.get(prefix) ?? 0;
    const n = old + delta;
    ws.processing.set(prefix, n);
    ws.positive += Math.max(n, 0) - Math.max(old, 0);
  }
}

/** True when a listed worker shows what the store holds for it (its frozen snapshot object would be equal). */
function sameWorker(ws: WorkerState, w: WorkerInfo): boolean {
  const i = ws.info;
  if (i.address !== w.address || i.host !== w.host || i.nthreads !== w.nthreads || i.memoryLimit !== w.memoryLimit || i.nbytes !== w.nbytes || i.status !== w.status) return false;
  if (ws.longRunning !== w.longRunning || !sameRecord(i.labels, w.labels) || !sameRecord(i.resources, w.resources)) return false;
  if (('resources' in i) !== ('resources' in w)) return false;
  let n = 0;
  for (const p in w.processing) {
    if (ws.processing.get(p) !== w.processing[p]) return false;
    n++;
  }
  return n === ws.processing.size;
}

function sameRecord<V>(a: Readonly<Record<string, V>> | undefined, b: Readonly<Record<string, V>> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}
