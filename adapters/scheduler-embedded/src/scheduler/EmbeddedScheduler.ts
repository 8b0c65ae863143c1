import { type Server, type Socket, createServer } from 'node:net';
import {
  EbbtideError,
  type Logger,
  type RetireOutcome,
  type RetireResult,
  type SchedulerEvent,
  type SchedulerSnapshot,
  SchedulerStateStore,
  SchedulingModel,
  keySplit,
  retireEach,
  retirementStep,
  silentLogger,
} from '@ebbtide/core';
import { type Observable, type SchedulerLike, Subject, type Subscription, asyncScheduler, concat, defer, firstValueFrom, from, interval, map, race, timer } from 'rxjs';
import { formatAddress } from '../protocol/address.js';
import type { Connection } from '../protocol/Connection.js';
import {
  type HeartbeatMessage,
  type Message,
  OPS,
  type RegisterWorkerMessage,
  type SubmitMessage,
  type TaskErredMessage,
  type TaskFinishedMessage,
  type WireError,
} from '../protocol/messages.js';
import { parseTaskRef } from '../taskRef.js';
import { checkEmbeddedOptions } from './checkOptions.js';
import { ConnectionGate, type ConnectionStats } from './ConnectionGate.js';
import { DEFAULT_EMBEDDED_OPTIONS, type EmbeddedSchedulerOptions } from './EmbeddedSchedulerOptions.js';
import type { ClientRecord, TaskData, TaskRecord, TaskStatus, WorkerData, WorkerRecord } from './records.js';

/** What `EmbeddedScheduler` needs from its host (the adapter injects them). */
export interface EmbeddedSchedulerDeps {
  logger?: Logger;
  /** Every timer (liveness checks, retirement deadlines) runs on it. Default `asyncScheduler`. */
  rxScheduler?: SchedulerLike;
}

/** A request the scheduler refuses or cannot satisfy, with the error to send back. */
class RequestFailed extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
  }
}

/** Failed copy attempts after which a retirement gives up and keeps the worker. */
const MOVE_ATTEMPTS = 3;

/**
 * The embedded scheduler: the core's `SchedulingModel` (queue, placement, result holders,
 * retirement plan, loss handling, events) behind a TCP server for workers and clients. This class
 * is the protocol around the model: it turns messages into model calls, sends what the model
 * decides (`compute`, `free`, data copies, `close`), relays results to clients, and keeps the
 * connections in bounds (`ConnectionGate`).
 *
 * Scheduling (the model's): a queued task goes to the running worker with the most free thread
 * slots (ties: registration order); tasks wait in FIFO order while no slot is free. A task
 * submitted with `resources` (`{ GPU: 1 }`) goes only to a worker offering them
 * (`ebbtide-worker --resources GPU=1`) with those units free, and waits, without blocking the
 * others, while there is none. Everything is
 * published on `events$` as core `SchedulerEvent`s, so a `SchedulerStateStore` sees the queue,
 * what each worker processes per prefix, the bytes each holds and its memory limit.
 *
 * Results stay on the worker that computed them (or received a copy on retirement); the scheduler
 * relays them to clients on `gather`. Each task's spec is kept until it is released, so a result
 * lost with its worker is recomputed when gathered.
 */
export class EmbeddedScheduler {
  /**
   * Scheduler events. Each subscriber first receives the current state as events (`worker.added`
   * per worker, then `task.transition` per queued or processing task), then live events; it never
   * errors and completes on `close()`.
   */
  readonly events$: Observable<SchedulerEvent>;
  private readonly options: EmbeddedSchedulerOptions;
  private readonly log: Logger;
  private readonly rx: SchedulerLike;
  private readonly subject = new Subject<SchedulerEvent>();
  /** Fed by our own events: answers `snapshot()` exactly as the core would see us. */
  private readonly store = new SchedulerStateStore();
  private readonly model: SchedulingModel<TaskData, WorkerData>;
  private readonly gate: ConnectionGate;
  private readonly retirements = new Map<string, Promise<RetireOutcome>>();
  private server?: Server;
  private liveness?: Subscription;
  private clients = 0;
  private closing?: Promise<void>;
  private listeningAddress?: string;

  /**
   * @throws EbbtideError `CONFIG_INVALID` for options it cannot run safely with (a non-loopback
   *   host without a token, ...; see `checkEmbeddedOptions`).
   */
  constructor(options: Partial<EmbeddedSchedulerOptions> = {}, deps: EmbeddedSchedulerDeps = {}) {
    this.options = { ...DEFAULT_EMBEDDED_OPTIONS, ...options };
    checkEmbeddedOptions(this.options);
    this.log = deps.logger ?? silentLogger;
    this.rx = deps.rxScheduler ?? asyncScheduler;
    this.gate = new ConnectionGate(this.options, this.log, () => this.rx.now());
    this.model = new SchedulingModel<TaskData, WorkerData>({
      emit: (e) => this.subject.next(e),
      // If the socket is already gone, its close handler re-queues this run.
      assigned: (t, w) => w.data.conn.send({ op: 'compute', key: t.key, run: t.run, fn: t.data.fn, args: t.data.args }),
      // A lost result is recomputed when a gather asks for it.
      lostResults: 'keep',
    });
    this.subject.subscribe((e) => this.store.apply(e));
    this.events$ = defer(() => concat(from(this.model.replay()), this.subject));
  }

  /** `tcp://HOST:PORT` once listening. */
  get address(): string | undefined {
    return this.listeningAddress;
  }

  /**
   * Starts listening. Resolves with the address (the real port when `port` is 0).
   *
   * @throws EbbtideError `SCHEDULER_UNREACHABLE` when the address cannot be bound.
   */
  async listen(): Promise<string> {
    if (this.listeningAddress) return this.listeningAddress;
    const { host, port } = this.options;
    const server = createServer((socket) => this.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      throw new EbbtideError('SCHEDULER_UNREACHABLE', `embedded scheduler cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`, {
        key: 'scheduler.embedded.port',
        hint: 'choose another scheduler.embedded.port, or 0 for any free port',
        cause: e,
      });
    }
    server.on('error', (e) => this.log.error({ event: 'scheduler.error', error: e.message }, 'server error'));
    this.server = server;
    const bound = server.address();
    this.listeningAddress = formatAddress(host, typeof bound === 'object' && bound ? bound.port : port);
    const everyMs = this.options.heartbeatInterval * 1000;
    this.liveness = interval(everyMs, this.rx).subscribe(() => this.checkLiveness());
    this.log.info({ event: 'scheduler.listening', address: this.listeningAddress }, 'listening');
    return this.listeningAddress;
  }

  /** The state as the core's `SchedulerStateStore` sees it from `events$` (for debugging). */
  snapshot(): SchedulerSnapshot {
    return this.store.snapshot(this.rx.now() / 1000);
  }

  /** Status of a key (`undefined` once released or never submitted); for debugging and tests. */
  taskStatus(key: string): TaskStatus | undefined {
    return this.model.task(key)?.status as TaskStatus | undefined;
  }

  /** Open connections (registered or not) and the bytes of partly received frames they hold. */
  connectionStats(): ConnectionStats {
    return this.gate.stats();
  }

  /** Names of the workers holding the result of `key`. */
  holdersOf(key: string): string[] {
    return [...(this.model.task(key)?.holders ?? [])].map((w) => w.name);
  }

  /**
   * Graceful removal, one outcome per name: stop assigning to the worker (`closing`), copy each
   * result held only there to the running worker holding the fewest bytes, re-queue what it still
   * runs, tell it to close and wait until it has disconnected. A worker with unique data and no
   * recipient is kept (back to `running`). Retiring a worker that is already being retired waits
   * for that retirement.
   */
  async retire(names: string[]): Promise<RetireResult> {
    return retireEach(names, {
      lookup: (name) => this.model.worker(name),
      markClosing: (w) => this.model.setStatus(w, 'closing'),
      retireOne: (w) => this.retireOne(w),
      inFlight: this.retirements,
    });
  }

  /**
   * Stops listening, tells workers to close and closes every connection (workers then exit by
   * themselves). Pending gathers fail; `events$` completes.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---------------------------------------------------------------- connections

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = this.gate.admit(socket);
    if (!conn) return;
    conn.onClose = () => this.gate.forget(conn);
    conn.onMessage = (m) =>
      this.safely(conn, () => {
        if (m.op !== 'register-worker' && m.op !== 'register-client') return;
        if (!this.gate.authorize(conn, m)) return;
        if (m.op === 'register-worker') this.registerWorker(conn, m);
        else this.registerClient(conn, m.id);
      });
  }

  /** Runs a message handler; a bug in it closes that connection instead of the scheduler. */
  private safely(conn: Connection, handle: () => void): void {
    try {
      handle();
    } catch (e) {
      this.log.error({ event: 'scheduler.bug', remote: conn.remote, error: e instanceof Error ? e.stack : String(e) }, 'handler failed: connection closed');
      conn.destroy('internal error');
    }
  }

  private registerWorker(conn: Connection, m: RegisterWorkerMessage): void {
    if (this.model.worker(m.name)) {
      this.log.warn({ event: 'worker.refused', worker: m.name, remote: conn.remote }, 'duplicate worker name');
      conn.replyError(m.id, { kind: 'input', message: `a worker named "${m.name}" is already connected; worker names must be unique` });
      conn.end('duplicate worker name');
      return;
    }
    this.gate.registered(conn);
    conn.acceptOps(OPS.fromWorker);
    conn.reply(m.id, { heartbeatInterval: this.options.heartbeatInterval * 1000 });
    const w = this.model.addWorker(
      { name: m.name, nthreads: m.nthreads, memoryLimit: m.memoryLimit, address: `tcp://${conn.remote}`, host: conn.remoteHost, labels: m.labels, ...(m.resources ? { resources: m.resources } : {}) },
      { conn, pid: m.pid, lastSeen: this.rx.now(), reportedNbytes: 0 },
    );
    conn.onMessage = (msg) => this.safely(conn, () => this.onWorkerMessage(w, msg));
    conn.onClose = (reason) => {
      this.gate.forget(conn);
      this.removeWorker(w, reason);
    };
    this.log.info({ event: 'worker.added', worker: w.name, nthreads: w.nthreads, memoryLimit: w.memoryLimit, pid: m.pid, ...(w.resources ? { resources: w.resources } : {}) }, 'worker added');
    this.schedule();
  }

  private registerClient(conn: Connection, id: number): void {
    this.gate.registered(conn);
    const c: ClientRecord = { id: ++this.clients, conn, wants: new Set() };
    conn.acceptOps(OPS.fromClient);
    conn.onMessage = (msg) => this.safely(conn, () => this.onClientMessage(c, msg));
    conn.onClose = () => {
      this.gate.forget(conn);
      // Like Dask: what a disconnected client wanted is no longer wanted by it.
      this.release(c, [...c.wants]);
    };
    conn.reply(id, { pingInterval: (this.options.idleTimeout * 1000) / 4 });
    this.log.debug({ event: 'client.added', client: c.id, remote: conn.remote }, 'client connected');
  }

  // ---------------------------------------------------------------- messages

  private onWorkerMessage(w: WorkerRecord, m: Message): void {
    w.data.lastSeen = this.rx.now();
    switch (m.op) {
      case 'task-finished':
        this.taskFinished(w, m);
        return;
      case 'task-erred':
        this.taskErred(w, m);
        return;
      case 'heartbeat':
        this.heartbeat(w, m);
        return;
      default:
        return;
    }
  }

  private onClientMessage(c: ClientRecord, m: Message): void {
    switch (m.op) {
      case 'submit':
        this.submit(c, m);
        return;
      case 'gather':
        this.gather(m.keys).then(
          (values) => c.conn.reply(m.id, { values }),
          (e: unknown) => c.conn.replyError(m.id, e instanceof RequestFailed ? e.wire : { kind: 'internal', message: e instanceof Error ? e.message : String(e) }),
        );
        return;
      case 'release':
        this.release(c, m.keys);
        c.conn.reply(m.id, {});
        return;
      default:
        // `ping`: only keeps the connection from idling out.
        return;
    }
  }

  private submit(c: ClientRecord, m: SubmitMessage): void {
    const ref = parseTaskRef(m.fn);
    if (typeof ref === 'string') {
      c.conn.replyError(m.id, { kind: 'input', message: ref, key: m.key });
      return;
    }
    c.wants.add(m.key);
    const existing = this.model.task(m.key);
    if (existing) {
      // Same key, same result (Dask's rule): the second submit only adds a wanter (its
      // restrictions, like its function, are the first submit's).
      existing.data.wantedBy.add(c);
      c.conn.reply(m.id, { key: m.key });
      return;
    }
    // A task with `resources` runs only on a worker offering them; until one connects it waits
    // (counted as demand for them in the snapshot) without holding up the tasks behind it.
    this.model.submit(m.key, m.prefix ?? keySplit(m.key), { fn: m.fn, args: m.args, wantedBy: new Set([c]), waiters: new Set() }, m.resources);
    c.conn.reply(m.id, { key: m.key });
    this.schedule();
  }

  private taskFinished(w: WorkerRecord, m: TaskFinishedMessage): void {
    const t = this.model.finished(w, m.run, { key: m.key, nbytes: m.nbytes, duration: m.duration });
    if (t) this.notify(t);
    else if (!this.model.task(m.key)?.holders.has(w)) {
      // A run that was released or re-queued meanwhile: its result is not tracked, drop it.
      w.data.conn.send({ op: 'free', keys: [m.key] });
    }
    this.schedule();
  }

  private taskErred(w: WorkerRecord, m: TaskErredMessage): void {
    const t = this.model.erred(w, m.run, m.key);
    if (t) {
      t.data.error = { ...m.error, kind: 'task', key: t.key, worker: w.name };
      this.log.info({ event: 'task.erred', key: t.key, worker: w.name, error: m.error.message }, 'task failed');
      this.notify(t);
    }
    this.schedule();
  }

  private heartbeat(w: WorkerRecord, m: HeartbeatMessage): void {
    w.data.reportedNbytes = m.nbytes;
    for (const e of m.executing) this.model.executing(w, e.run, e.key, e.elapsed);
  }

  /** Lets the model assign what it can (nothing once closing). */
  private schedule(): void {
    if (!this.closing) this.model.schedule(this.rx.now());
  }

  // ---------------------------------------------------------------- release and loss

  private release(c: ClientRecord, keys: readonly string[]): void {
    for (const key of keys) {
      if (!c.wants.delete(key)) continue;
      const t = this.model.task(key);
      if (!t) continue;
      t.data.wantedBy.delete(c);
      if (t.data.wantedBy.size > 0) continue;
      // Nobody wants it: forgotten, and freed where it is held. A run in flight keeps its slot.
      for (const h of this.model.release(key) ?? []) h.data.conn.send({ op: 'free', keys: [key] });
      this.notify(t);
    }
    this.schedule();
  }

  private removeWorker(w: WorkerRecord, reason: string): void {
    if (w.gone) return;
    const lost = this.model.removeWorker(w);
    this.log.info({ event: 'worker.removed', worker: w.name, reason }, 'worker removed');
    for (const t of lost) this.notify(t);
    this.schedule();
  }

  /** Disconnects workers silent past `workerTimeout`; the gate closes what is idle or never registered. */
  private checkLiveness(): void {
    const workerMs = this.options.workerTimeout * 1000;
    if (workerMs > 0) {
      const now = this.rx.now();
      for (const w of this.model.workers()) {
        const silent = now - w.data.lastSeen;
        if (silent > workerMs) {
          this.log.warn({ event: 'worker.timeout', worker: w.name, silentFor: silent / 1000 }, 'no heartbeat: disconnecting worker');
          w.data.conn.destroy(`no message for ${this.options.workerTimeout}s`);
        }
      }
    }
    this.gate.sweep();
  }

  // ---------------------------------------------------------------- gather

  /**
   * Results of `keys`, in order, once all are in memory; lost results are recomputed first.
   *
   * @throws RequestFailed for an unknown or released key, a failed task, or a closing scheduler.
   */
  private async gather(keys: string[]): Promise<unknown[]> {
    for (;;) {
      const records = await Promise.all(keys.map((k) => this.whenInMemory(k)));
      const values = await this.fetch(records);
      // undefined: a holder vanished or no longer had a result; wait for recomputation and retry.
      if (values) return values;
    }
  }

  private whenInMemory(key: string): Promise<TaskRecord> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.closing) {
          reject(new RequestFailed({ kind: 'unavailable', key, message: 'the scheduler is closing' }));
          return;
        }
        const t = this.model.task(key);
        if (!t) {
          reject(new RequestFailed({ kind: 'input', key, message: `key "${key}" is not known to the scheduler (never submitted, or released)` }));
          return;
        }
        if (t.status === 'memory') {
          resolve(t);
          return;
        }
        if (t.status === 'erred') {
          reject(new RequestFailed(t.data.error!));
          return;
        }
        if (t.status === 'lost') {
          this.log.info({ event: 'task.recompute', key }, 'recomputing lost result');
          this.model.recompute(t);
          this.schedule();
        }
        t.data.waiters.add(check);
      };
      check();
    });
  }

  private notify(t: TaskRecord): void {
    const waiters = [...t.data.waiters];
    t.data.waiters.clear();
    for (const w of waiters) w();
  }

  /** Fetches results from their holders, or undefined if any of them turned out to be lost. */
  private async fetch(records: TaskRecord[]): Promise<unknown[] | undefined> {
    const byHolder = new Map<WorkerRecord, string[]>();
    for (const t of records) {
      const holder = t.holders.values().next().value;
      if (t.status !== 'memory' || !holder) return undefined;
      const keys = byHolder.get(holder) ?? [];
      if (!keys.includes(t.key)) keys.push(t.key);
      byHolder.set(holder, keys);
    }
    const values = new Map<string, unknown>();
    let complete = true;
    await Promise.all(
      [...byHolder].map(async ([w, keys]) => {
        try {
          const got = await this.getData(w, keys);
          for (const [k, v] of got) values.set(k, v);
          if (got.size < keys.length) complete = false;
        } catch {
          // The connection closed: removeWorker has already marked its unique results lost.
          complete = false;
        }
      }),
    );
    return complete ? records.map((t) => values.get(t.key)) : undefined;
  }

  /** Asks `w` for `keys`; keys it no longer has are dropped from its replicas. */
  private async getData(w: WorkerRecord, keys: string[]): Promise<Map<string, unknown>> {
    const reply = await w.data.conn.request<{ values?: unknown; missing?: unknown }>({ op: 'get-data', keys });
    const valuesOk = Array.isArray(reply.values) && reply.values.length === keys.length;
    const missing = new Set(Array.isArray(reply.missing) ? (reply.missing as string[]) : []);
    if (!valuesOk) {
      this.log.warn({ event: 'connection.malformed', worker: w.name, reason: 'get-data reply without aligned values' }, 'malformed reply: connection closed');
      w.data.conn.destroy('malformed get-data reply');
      throw new Error('malformed get-data reply');
    }
    const got = new Map<string, unknown>();
    keys.forEach((k, i) => {
      if (!missing.has(k)) {
        got.set(k, (reply.values as unknown[])[i]);
        return;
      }
      const lost = this.model.dropReplica(w, k);
      if (lost) this.notify(lost);
    });
    return got;
  }

  // ---------------------------------------------------------------- retirement

  /** The model plans each step; this copies the data over the wire and closes the worker. */
  private async retireOne(w: WorkerRecord): Promise<RetireOutcome> {
    let moved = 0;
    let failures = 0;
    for (;;) {
      const step = retirementStep(this.model, w, { giveUp: failures >= MOVE_ATTEMPTS });
      if (step.kind === 'gone') return { name: w.name, status: 'retired', movedBytes: moved, reason: 'disconnected while retiring' };
      if (step.kind === 'clear') {
        // From here on nothing it computes counts, so it cannot come to hold unique data again.
        this.model.requeueRunsOf(w);
        this.schedule();
        break;
      }
      if (step.kind === 'kept') {
        this.schedule();
        this.log.info({ event: 'worker.kept', worker: w.name, reason: step.reason, uniqueKeys: this.model.uniqueResultsOf(w).length }, 'retirement refused');
        return { name: w.name, status: 'kept', reason: step.reason, ...(moved > 0 ? { movedBytes: moved } : {}) };
      }
      try {
        moved += await this.copyData(w, step.to, step.tasks);
      } catch (e) {
        failures++;
        this.log.warn({ event: 'worker.move-failed', from: w.name, to: step.to.name, error: e instanceof Error ? e.message : String(e) }, 'moving data failed');
      }
    }
    w.data.conn.send({ op: 'close', reason: 'retired' });
    const closed = await firstValueFrom(
      race(from(w.data.conn.closed).pipe(map(() => true)), timer(this.options.retireTimeout * 1000, this.rx).pipe(map(() => false))),
    );
    if (!closed) {
      this.log.warn({ event: 'worker.retire-timeout', worker: w.name }, 'retired worker did not disconnect: cutting it off');
      w.data.conn.destroy('did not disconnect after close');
      await w.data.conn.closed;
    }
    this.log.info({ event: 'worker.retired', worker: w.name, movedBytes: moved }, 'worker retired');
    return { name: w.name, status: 'retired', movedBytes: moved };
  }

  /** Copies `tasks`' results from `from` to `to` in batches that fit a frame; returns the bytes copied. */
  private async copyData(from: WorkerRecord, to: WorkerRecord, tasks: readonly TaskRecord[]): Promise<number> {
    let moved = 0;
    for (const batch of this.batches(tasks)) {
      const got = await this.getData(from, batch.map((t) => t.key));
      const present = [...got.keys()];
      if (present.length === 0) continue;
      await to.data.conn.request({ op: 'put-data', keys: present, values: present.map((k) => got.get(k)) });
      if (to.gone) throw new Error(`recipient ${to.name} disconnected`);
      // Released while it travelled: the recipient may drop its copy.
      const unwanted = present.filter((k) => !this.model.task(k));
      const copied = present.map((k) => this.model.task(k)).filter((t): t is TaskRecord => t !== undefined);
      const result = this.model.addReplicas(to, copied);
      unwanted.push(...result.unwanted.map((t) => t.key));
      if (unwanted.length) to.data.conn.send({ op: 'free', keys: unwanted });
      moved += result.movedBytes;
    }
    return moved;
  }

  /** Splits tasks so that each batch's results take at most a quarter of the frame limit. */
  private *batches(tasks: readonly TaskRecord[]): Iterable<TaskRecord[]> {
    const budget = this.options.maxFrameBytes / 4;
    let batch: TaskRecord[] = [];
    let bytes = 0;
    for (const t of tasks) {
      if (batch.length > 0 && bytes + t.nbytes > budget) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(t);
      bytes += t.nbytes;
    }
    if (batch.length > 0) yield batch;
  }

  // ---------------------------------------------------------------- shutdown

  private async shutdown(): Promise<void> {
    this.liveness?.unsubscribe();
    const serverClosed = this.server ? new Promise<void>((r) => this.server!.close(() => r())) : Promise.resolve();
    for (const w of this.model.workers()) w.data.conn.send({ op: 'close', reason: 'scheduler closing' });
    const conns = [...this.gate.open];
    for (const c of conns) c.end('scheduler closing');
    for (const t of this.model.tasks()) this.notify(t);
    const allClosed = Promise.all(conns.map((c) => c.closed));
    const inTime = await firstValueFrom(race(from(allClosed).pipe(map(() => true)), timer(2000, this.rx).pipe(map(() => false))));
    if (!inTime) for (const c of conns) c.destroy('scheduler closing');
    await allClosed;
    await serverClosed;
    this.log.info({ event: 'scheduler.closed', address: this.listeningAddress }, 'closed');
    this.subject.complete();
  }
}
