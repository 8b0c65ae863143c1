import { createHash, timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import {
  EbbtideError,
  type Logger,
  type RetireOutcome,
  type RetireResult,
  type SchedulerEvent,
  type SchedulerSnapshot,
  SchedulerStateStore,
  type WorkerInfo,
  keySplit,
  retireEach,
  silentLogger,
} from '@ebbtide/core';
import {
  type Observable,
  type SchedulerLike,
  Subject,
  type Subscription,
  asyncScheduler,
  concat,
  defer,
  firstValueFrom,
  from,
  interval,
  map,
  race,
  timer,
} from 'rxjs';
import { formatAddress, plainHost } from '../protocol/address.js';
import { ByteBudget } from '../protocol/ByteBudget.js';
import { Connection } from '../protocol/Connection.js';
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
import { MIN_FRAME_BYTES, checkEmbeddedOptions } from './checkOptions.js';
import { DEFAULT_EMBEDDED_OPTIONS, type EmbeddedSchedulerOptions } from './EmbeddedSchedulerOptions.js';
import type { ClientRecord, TaskRecord, TaskStatus, WorkerRecord } from './records.js';

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
 * Largest frame accepted before a connection has registered: a registration is small, and a peer
 * that has not shown the token must not make the scheduler hold a large frame.
 */
const HANDSHAKE_MAX_FRAME_BYTES = MIN_FRAME_BYTES;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The embedded scheduler: a TCP server for workers and clients, a FIFO ready queue, and the
 * bookkeeping of where every result lives.
 *
 * Scheduling: a queued task goes to the running worker with the most free thread slots (ties:
 * registration order); tasks wait in FIFO order while no slot is free. Everything it does is
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
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly tasks = new Map<string, TaskRecord>();
  /** FIFO of queued keys (a Set keeps insertion order and deletes in O(1)). */
  private readonly queue = new Set<string>();
  private readonly connections = new Set<Connection>();
  /** Connections that have not registered yet, with the time (ms) each was accepted. */
  private readonly unregistered = new Map<Connection, number>();
  /** Bytes of partly received frames, across every connection. */
  private readonly budget: ByteBudget;
  private readonly tokenDigest?: Buffer;
  /** Set while accepts are refused for the connection limit, so that is logged once per episode. */
  private atConnectionLimit = false;
  private refusedConnections = 0;
  private readonly retirements = new Map<string, Promise<RetireOutcome>>();
  private server?: Server;
  private liveness?: Subscription;
  private runs = 0;
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
    this.budget = new ByteBudget(this.options.maxBufferedBytes);
    if (this.options.token !== '') this.tokenDigest = digest(this.options.token);
    this.log = deps.logger ?? silentLogger;
    this.rx = deps.rxScheduler ?? asyncScheduler;
    this.subject.subscribe((e) => this.store.apply(e));
    this.events$ = defer(() => concat(from(this.replay()), this.subject));
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
    return this.tasks.get(key)?.status;
  }

  /** Open connections (registered or not) and the bytes of partly received frames they hold. */
  connectionStats(): { connections: number; unregistered: number; bufferedBytes: number; refused: number } {
    return { connections: this.connections.size, unregistered: this.unregistered.size, bufferedBytes: this.budget.used, refused: this.refusedConnections };
  }

  /** Names of the workers holding the result of `key`. */
  holdersOf(key: string): string[] {
    return [...(this.tasks.get(key)?.holders ?? [])].map((w) => w.name);
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
      lookup: (name) => this.workers.get(name),
      markClosing: (w) => this.setStatus(w, 'closing'),
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
    if (this.connections.size >= this.options.maxConnections) {
      socket.destroy();
      this.refusedConnections++;
      // Once per episode: a flood of refusals must not become a flood of log lines.
      if (!this.atConnectionLimit) {
        this.atConnectionLimit = true;
        this.log.warn({ event: 'connection.refused', remote: plainHost(socket.remoteAddress), limit: this.options.maxConnections }, 'connection limit reached: refusing new connections');
      }
      return;
    }
    this.atConnectionLimit = false;
    const conn: Connection = new Connection(socket, {
      accept: OPS.toSchedulerFirst,
      maxFrameBytes: this.options.maxFrameBytes,
      budget: this.budget,
      now: () => this.rx.now(),
      onProtocolError: (e) => this.log.warn({ event: 'connection.malformed', remote: conn.remote, reason: e.message }, 'malformed message: connection closed'),
      onOverBudget: (holding) =>
        this.log.warn(
          { event: 'connection.over-budget', remote: conn.remote, holding, buffered: this.budget.used, limit: this.options.maxBufferedBytes },
          'buffered bytes across connections would exceed scheduler.embedded.maxBufferedBytes: connection closed',
        ),
    });
    conn.setReceiveLimit(HANDSHAKE_MAX_FRAME_BYTES);
    this.connections.add(conn);
    this.unregistered.set(conn, this.rx.now());
    conn.onClose = () => this.forgetConnection(conn);
    conn.onMessage = (m) =>
      this.safely(conn, () => {
        if (m.op !== 'register-worker' && m.op !== 'register-client') return;
        if (!this.authorized(m.token)) {
          this.log.warn({ event: 'connection.unauthorized', remote: conn.remote, as: m.op === 'register-worker' ? 'worker' : 'client' }, 'registration without the right token: connection closed');
          conn.replyError(m.id, { kind: 'unauthorized', message: m.token === undefined ? 'this scheduler requires a token (scheduler.embedded.token)' : 'wrong token' });
          conn.onMessage = () => undefined;
          conn.end('unauthorized');
          return;
        }
        if (m.op === 'register-worker') this.registerWorker(conn, m);
        else this.registerClient(conn, m.id);
      });
  }

  private forgetConnection(conn: Connection): void {
    this.connections.delete(conn);
    this.unregistered.delete(conn);
  }

  /** No token configured, or `token` is it (compared in constant time). */
  private authorized(token: string | undefined): boolean {
    if (!this.tokenDigest) return true;
    return token !== undefined && timingSafeEqual(digest(token), this.tokenDigest);
  }

  /** A connection became a worker or a client: full-size frames from now on. */
  private registered(conn: Connection): void {
    this.unregistered.delete(conn);
    conn.setReceiveLimit(this.options.maxFrameBytes);
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
    if (this.workers.has(m.name)) {
      this.log.warn({ event: 'worker.refused', worker: m.name, remote: conn.remote }, 'duplicate worker name');
      conn.replyError(m.id, { kind: 'input', message: `a worker named "${m.name}" is already connected; worker names must be unique` });
      conn.end('duplicate worker name');
      return;
    }
    this.registered(conn);
    const w: WorkerRecord = {
      name: m.name,
      conn,
      nthreads: m.nthreads,
      memoryLimit: m.memoryLimit,
      labels: { ...m.labels },
      pid: m.pid,
      status: 'running',
      processing: new Map(),
      has: new Set(),
      nbytes: 0,
      lastSeen: this.rx.now(),
      reportedNbytes: 0,
      gone: false,
    };
    this.workers.set(w.name, w);
    conn.acceptOps(OPS.fromWorker);
    conn.onMessage = (msg) => this.safely(conn, () => this.onWorkerMessage(w, msg));
    conn.onClose = (reason) => {
      this.forgetConnection(conn);
      this.removeWorker(w, reason);
    };
    conn.reply(m.id, { heartbeatInterval: this.options.heartbeatInterval * 1000 });
    this.emit({ type: 'worker.added', worker: this.workerInfo(w) });
    this.log.info({ event: 'worker.added', worker: w.name, nthreads: w.nthreads, memoryLimit: w.memoryLimit, pid: w.pid }, 'worker added');
    this.schedule();
  }

  private registerClient(conn: Connection, id: number): void {
    this.registered(conn);
    const c: ClientRecord = { id: ++this.clients, conn, wants: new Set() };
    conn.acceptOps(OPS.fromClient);
    conn.onMessage = (msg) => this.safely(conn, () => this.onClientMessage(c, msg));
    conn.onClose = () => {
      this.forgetConnection(conn);
      // Like Dask: what a disconnected client wanted is no longer wanted by it.
      this.release(c, [...c.wants]);
    };
    conn.reply(id, { pingInterval: (this.options.idleTimeout * 1000) / 4 });
    this.log.debug({ event: 'client.added', client: c.id, remote: conn.remote }, 'client connected');
  }

  private workerInfo(w: WorkerRecord): Omit<WorkerInfo, 'processing' | 'longRunning'> {
    return {
      name: w.name,
      address: `tcp://${w.conn.remote}`,
      host: w.conn.remoteHost,
      nthreads: w.nthreads,
      memoryLimit: w.memoryLimit,
      nbytes: w.nbytes,
      status: w.status,
      labels: { ...w.labels },
    };
  }

  // ---------------------------------------------------------------- messages

  private onWorkerMessage(w: WorkerRecord, m: Message): void {
    w.lastSeen = this.rx.now();
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
      case 'ping':
        return;
      default:
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
    const existing = this.tasks.get(m.key);
    if (existing) {
      // Same key, same result (Dask's rule): the second submit only adds a wanter.
      existing.wantedBy.add(c);
      c.conn.reply(m.id, { key: m.key });
      return;
    }
    const t: TaskRecord = {
      key: m.key,
      prefix: m.prefix ?? keySplit(m.key),
      fn: m.fn,
      args: m.args,
      status: 'queued',
      run: 0,
      holders: new Set(),
      nbytes: 0,
      wantedBy: new Set([c]),
      waiters: new Set(),
    };
    this.tasks.set(t.key, t);
    this.queue.add(t.key);
    this.emit({ type: 'task.transition', key: t.key, prefix: t.prefix, to: 'queued' });
    c.conn.reply(m.id, { key: m.key });
    this.schedule();
  }

  private taskFinished(w: WorkerRecord, m: TaskFinishedMessage): void {
    w.processing.delete(m.run);
    const t = this.tasks.get(m.key);
    if (t && this.isCurrentRun(t, w, m.run)) {
      t.status = 'memory';
      t.worker = undefined;
      t.nbytes = m.nbytes;
      t.holders.add(w);
      w.has.add(t.key);
      w.nbytes += m.nbytes;
      this.emit({ type: 'task.transition', key: t.key, to: 'memory', duration: m.duration });
      this.emitNbytes(w);
      this.notify(t);
    } else if (!t || !t.holders.has(w)) {
      // A run that was released or re-queued meanwhile: its result is not tracked, drop it.
      w.conn.send({ op: 'free', keys: [m.key] });
    }
    this.schedule();
  }

  private taskErred(w: WorkerRecord, m: TaskErredMessage): void {
    w.processing.delete(m.run);
    const t = this.tasks.get(m.key);
    if (t && this.isCurrentRun(t, w, m.run)) {
      t.status = 'erred';
      t.worker = undefined;
      t.error = { ...m.error, kind: 'task', key: t.key, worker: w.name };
      this.emit({ type: 'task.transition', key: t.key, to: 'erred' });
      this.log.info({ event: 'task.erred', key: t.key, worker: w.name, error: m.error.message }, 'task failed');
      this.notify(t);
    }
    this.schedule();
  }

  private heartbeat(w: WorkerRecord, m: HeartbeatMessage): void {
    w.reportedNbytes = m.nbytes;
    for (const e of m.executing) {
      const t = this.tasks.get(e.key);
      if (t && this.isCurrentRun(t, w, e.run)) this.emit({ type: 'task.executing', prefix: t.prefix, elapsed: e.elapsed });
    }
  }

  private isCurrentRun(t: TaskRecord, w: WorkerRecord, run: number): boolean {
    return t.status === 'processing' && t.worker === w && t.run === run;
  }

  // ---------------------------------------------------------------- scheduling

  /** Assigns queued tasks, oldest first, while some running worker has a free slot. */
  private schedule(): void {
    if (this.closing) return;
    for (const key of this.queue) {
      const w = this.pickWorker();
      if (!w) return;
      this.queue.delete(key);
      const t = this.tasks.get(key);
      if (t) this.assign(t, w);
    }
  }

  /** The running worker with the most free slots; ties go to the earliest registered. */
  private pickWorker(): WorkerRecord | undefined {
    let best: WorkerRecord | undefined;
    let bestFree = 0;
    for (const w of this.workers.values()) {
      if (w.status !== 'running') continue;
      const free = w.nthreads - w.processing.size;
      if (free > bestFree) {
        best = w;
        bestFree = free;
      }
    }
    return best;
  }

  private assign(t: TaskRecord, w: WorkerRecord): void {
    t.status = 'processing';
    t.worker = w;
    t.run = ++this.runs;
    w.processing.set(t.run, t.key);
    // If the socket is already gone, its close handler re-queues this run.
    w.conn.send({ op: 'compute', key: t.key, run: t.run, fn: t.fn, args: t.args });
    this.emit({ type: 'task.transition', key: t.key, to: 'processing', worker: w.name });
  }

  private requeue(t: TaskRecord): void {
    t.status = 'queued';
    t.worker = undefined;
    this.queue.add(t.key);
    this.emit({ type: 'task.transition', key: t.key, to: 'queued' });
  }

  /** Re-queues the tasks `w` is processing; whatever it reports for them later is dropped. */
  private requeueFrom(w: WorkerRecord): void {
    for (const [run, key] of w.processing) {
      const t = this.tasks.get(key);
      if (t && this.isCurrentRun(t, w, run)) this.requeue(t);
    }
  }

  // ---------------------------------------------------------------- release and loss

  private release(c: ClientRecord, keys: readonly string[]): void {
    for (const key of keys) {
      if (!c.wants.delete(key)) continue;
      const t = this.tasks.get(key);
      if (!t) continue;
      t.wantedBy.delete(c);
      if (t.wantedBy.size === 0) this.forget(t);
    }
    this.schedule();
  }

  /** Drops a task nobody wants. A run in flight keeps its slot until the worker reports it. */
  private forget(t: TaskRecord): void {
    this.tasks.delete(t.key);
    this.queue.delete(t.key);
    for (const h of t.holders) {
      h.has.delete(t.key);
      h.nbytes -= t.nbytes;
      h.conn.send({ op: 'free', keys: [t.key] });
      this.emitNbytes(h);
    }
    t.holders.clear();
    this.emit({ type: 'task.transition', key: t.key, to: 'released' });
    this.notify(t);
  }

  /** `w` no longer has `key` (it said so): the result is lost if nobody else holds it. */
  private dropReplica(w: WorkerRecord, key: string): void {
    const t = this.tasks.get(key);
    if (!w.has.delete(key) || !t) return;
    w.nbytes -= t.nbytes;
    this.emitNbytes(w);
    t.holders.delete(w);
    if (t.holders.size === 0 && t.status === 'memory') this.markLost(t);
  }

  private markLost(t: TaskRecord): void {
    t.status = 'lost';
    this.emit({ type: 'task.transition', key: t.key, to: 'released' });
    this.notify(t);
  }

  private removeWorker(w: WorkerRecord, reason: string): void {
    if (w.gone) return;
    w.gone = true;
    this.workers.delete(w.name);
    this.requeueFrom(w);
    for (const key of w.has) {
      const t = this.tasks.get(key);
      if (!t) continue;
      t.holders.delete(w);
      if (t.holders.size === 0 && t.status === 'memory') this.markLost(t);
    }
    this.emit({ type: 'worker.removed', name: w.name });
    this.log.info({ event: 'worker.removed', worker: w.name, reason }, 'worker removed');
    this.schedule();
  }

  /**
   * Closes what has been quiet too long: workers past `workerTimeout`, connections that have not
   * registered within `handshakeTimeout` (idle or half-sent alike), and registered connections
   * that completed no message within `idleTimeout` (a peer trickling a frame byte by byte counts
   * as quiet: only whole messages count).
   */
  private checkLiveness(): void {
    const now = this.rx.now();
    const workerMs = this.options.workerTimeout * 1000;
    if (workerMs > 0) {
      for (const w of this.workers.values()) {
        if (now - w.lastSeen > workerMs) {
          this.log.warn({ event: 'worker.timeout', worker: w.name, silentFor: (now - w.lastSeen) / 1000 }, 'no heartbeat: disconnecting worker');
          w.conn.destroy(`no message for ${this.options.workerTimeout}s`);
        }
      }
    }
    const handshakeMs = this.options.handshakeTimeout * 1000;
    for (const [conn, since] of this.unregistered) {
      if (now - since <= handshakeMs) continue;
      this.unregistered.delete(conn);
      this.log.info({ event: 'connection.handshake-timeout', remote: conn.remote, buffered: conn.bufferedBytes }, 'no registration in time: connection closed');
      conn.destroy(`did not register within ${this.options.handshakeTimeout}s`);
    }
    const idleMs = this.options.idleTimeout * 1000;
    if (idleMs > 0) {
      for (const conn of this.connections) {
        if (this.unregistered.has(conn) || now - conn.lastMessageAt <= idleMs) continue;
        this.log.warn({ event: 'connection.idle', remote: conn.remote, buffered: conn.bufferedBytes }, 'no complete message within scheduler.embedded.idleTimeout: connection closed');
        conn.destroy(`no complete message for ${this.options.idleTimeout}s`);
      }
    }
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
        const t = this.tasks.get(key);
        if (!t) {
          reject(new RequestFailed({ kind: 'input', key, message: `key "${key}" is not known to the scheduler (never submitted, or released)` }));
          return;
        }
        if (t.status === 'memory') {
          resolve(t);
          return;
        }
        if (t.status === 'erred') {
          reject(new RequestFailed(t.error!));
          return;
        }
        if (t.status === 'lost') {
          this.log.info({ event: 'task.recompute', key }, 'recomputing lost result');
          this.requeue(t);
          this.schedule();
        }
        t.waiters.add(check);
      };
      check();
    });
  }

  private notify(t: TaskRecord): void {
    const waiters = [...t.waiters];
    t.waiters.clear();
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
    const reply = await w.conn.request<{ values?: unknown; missing?: unknown }>({ op: 'get-data', keys });
    const valuesOk = Array.isArray(reply.values) && reply.values.length === keys.length;
    const missing = new Set(Array.isArray(reply.missing) ? (reply.missing as string[]) : []);
    if (!valuesOk) {
      this.log.warn({ event: 'connection.malformed', worker: w.name, reason: 'get-data reply without aligned values' }, 'malformed reply: connection closed');
      w.conn.destroy('malformed get-data reply');
      throw new Error('malformed get-data reply');
    }
    const got = new Map<string, unknown>();
    keys.forEach((k, i) => {
      if (missing.has(k)) this.dropReplica(w, k);
      else got.set(k, (reply.values as unknown[])[i]);
    });
    return got;
  }

  // ---------------------------------------------------------------- retirement

  private async retireOne(w: WorkerRecord): Promise<RetireOutcome> {
    let moved = 0;
    let failures = 0;
    for (;;) {
      if (w.gone) return { name: w.name, status: 'retired', movedBytes: moved, reason: 'disconnected while retiring' };
      const unique = this.onlyHeldBy(w);
      if (unique.length === 0) {
        // From here on nothing it computes counts, so it cannot come to hold unique data again.
        this.requeueFrom(w);
        this.schedule();
        break;
      }
      const to = this.pickRecipient();
      if (!to || failures >= MOVE_ATTEMPTS) {
        const reason = to ? 'copying its data failed repeatedly' : 'holds data that cannot be moved';
        this.setStatus(w, 'running');
        this.schedule();
        this.log.info({ event: 'worker.kept', worker: w.name, reason, uniqueKeys: unique.length }, 'retirement refused');
        return { name: w.name, status: 'kept', reason, ...(moved > 0 ? { movedBytes: moved } : {}) };
      }
      try {
        moved += await this.copyData(w, to, unique);
      } catch (e) {
        failures++;
        this.log.warn({ event: 'worker.move-failed', from: w.name, to: to.name, error: e instanceof Error ? e.message : String(e) }, 'moving data failed');
      }
    }
    w.conn.send({ op: 'close', reason: 'retired' });
    const closed = await firstValueFrom(
      race(from(w.conn.closed).pipe(map(() => true)), timer(this.options.retireTimeout * 1000, this.rx).pipe(map(() => false))),
    );
    if (!closed) {
      this.log.warn({ event: 'worker.retire-timeout', worker: w.name }, 'retired worker did not disconnect: cutting it off');
      w.conn.destroy('did not disconnect after close');
      await w.conn.closed;
    }
    this.log.info({ event: 'worker.retired', worker: w.name, movedBytes: moved }, 'worker retired');
    return { name: w.name, status: 'retired', movedBytes: moved };
  }

  /**
   * Keys whose result would be lost with `w`: no other holder outside a retirement has it (two
   * workers retired together may hold the only two copies).
   */
  private onlyHeldBy(w: WorkerRecord): string[] {
    return [...w.has].filter((k) => {
      const t = this.tasks.get(k);
      return t !== undefined && ![...t.holders].some((h) => h !== w && h.status !== 'closing');
    });
  }

  /** The running worker holding the fewest bytes (ties: earliest registered). */
  private pickRecipient(): WorkerRecord | undefined {
    let best: WorkerRecord | undefined;
    for (const w of this.workers.values()) {
      if (w.status === 'running' && (!best || w.nbytes < best.nbytes)) best = w;
    }
    return best;
  }

  /** Copies `keys` from `from` to `to` in batches that fit a frame; returns the bytes copied. */
  private async copyData(from: WorkerRecord, to: WorkerRecord, keys: string[]): Promise<number> {
    let moved = 0;
    for (const batch of this.batches(keys)) {
      const got = await this.getData(from, batch);
      const present = [...got.keys()];
      if (present.length === 0) continue;
      await to.conn.request({ op: 'put-data', keys: present, values: present.map((k) => got.get(k)) });
      if (to.gone) throw new Error(`recipient ${to.name} disconnected`);
      const unwanted: string[] = [];
      for (const k of present) {
        const t = this.tasks.get(k);
        if (!t || t.status !== 'memory') unwanted.push(k);
        else if (!t.holders.has(to)) {
          t.holders.add(to);
          to.has.add(k);
          to.nbytes += t.nbytes;
          moved += t.nbytes;
        }
      }
      if (unwanted.length) to.conn.send({ op: 'free', keys: unwanted });
      this.emitNbytes(to);
    }
    return moved;
  }

  /** Splits keys so that each batch's results take at most a quarter of the frame limit. */
  private *batches(keys: string[]): Iterable<string[]> {
    const budget = this.options.maxFrameBytes / 4;
    let batch: string[] = [];
    let bytes = 0;
    for (const k of keys) {
      const n = this.tasks.get(k)?.nbytes ?? 0;
      if (batch.length > 0 && bytes + n > budget) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(k);
      bytes += n;
    }
    if (batch.length > 0) yield batch;
  }

  // ---------------------------------------------------------------- events and shutdown

  private setStatus(w: WorkerRecord, status: WorkerRecord['status']): void {
    if (w.status === status) return;
    w.status = status;
    this.emit({ type: 'worker.updated', name: w.name, status });
  }

  private emitNbytes(w: WorkerRecord): void {
    if (!w.gone) this.emit({ type: 'worker.updated', name: w.name, nbytes: w.nbytes });
  }

  private emit(e: SchedulerEvent): void {
    this.subject.next(e);
  }

  /** The current state as events, for a new subscriber. */
  private replay(): SchedulerEvent[] {
    const events: SchedulerEvent[] = [];
    for (const w of this.workers.values()) events.push({ type: 'worker.added', worker: this.workerInfo(w) });
    for (const t of this.tasks.values()) {
      if (t.status === 'queued') events.push({ type: 'task.transition', key: t.key, prefix: t.prefix, to: 'queued' });
      else if (t.status === 'processing') events.push({ type: 'task.transition', key: t.key, prefix: t.prefix, to: 'processing', worker: t.worker!.name });
    }
    return events;
  }

  private async shutdown(): Promise<void> {
    this.liveness?.unsubscribe();
    const serverClosed = this.server ? new Promise<void>((r) => this.server!.close(() => r())) : Promise.resolve();
    for (const w of this.workers.values()) w.conn.send({ op: 'close', reason: 'scheduler closing' });
    const conns = [...this.connections];
    for (const c of conns) c.end('scheduler closing');
    for (const t of this.tasks.values()) this.notify(t);
    const allClosed = Promise.all(conns.map((c) => c.closed));
    const inTime = await firstValueFrom(race(from(allClosed).pipe(map(() => true)), timer(2000, this.rx).pipe(map(() => false))));
    if (!inTime) for (const c of conns) c.destroy('scheduler closing');
    await allClosed;
    await serverClosed;
    this.log.info({ event: 'scheduler.closed', address: this.listeningAddress }, 'closed');
    this.subject.complete();
  }
}
