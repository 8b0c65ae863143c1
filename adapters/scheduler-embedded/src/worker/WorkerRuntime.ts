import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EbbtideError } from '@ebbtide/core/sdk';
import { parseAddress } from '../protocol/address.js';
import { Connection, RemoteError } from '../protocol/Connection.js';
import { type ComputeMessage, type Message, OPS } from '../protocol/messages.js';
import { TaskThreadPool } from './TaskThreadPool.js';

/** Options of one worker process (the `ebbtide-worker` flags). */
export interface WorkerRuntimeOptions {
  /** `tcp://HOST:PORT` of the scheduler. */
  scheduler: string;
  /** Unique among the scheduler's workers. */
  name: string;
  /** Task threads: at most this many tasks run at once. */
  nthreads: number;
  /** Bytes, reported to the scheduler; 0 = no limit. */
  memoryLimit: number;
  labels: Record<string, string>;
  /** What the worker offers (`{ GPU: 1 }`): tasks submitted with resources run only on workers offering them. */
  resources?: Record<string, number>;
  /**
   * The scheduler's `scheduler.embedded.token`; default: the `EBBTIDE_TOKEN` environment variable
   * (there is no flag for it: command lines are visible to every user of the machine).
   */
  token?: string;
  /** Where diagnostics go (stderr by default). */
  log?: (line: string) => void;
}

/** Why a worker stopped, and the exit code it implies. */
export interface WorkerStop {
  code: number;
  reason: string;
}

interface Stored {
  value: unknown;
  nbytes: number;
}

/**
 * The worker: registers with the scheduler, runs `compute` requests on a thread pool, keeps every
 * result in memory (nbytes = size of its JSON), serves and accepts data, and heartbeats. It stops
 * when the scheduler says `close`, when the connection is gone, or on `stop()` (signals).
 */
export class WorkerRuntime {
  /** Resolves when the worker has stopped; `main` exits the process with its code. */
  readonly stopped: Promise<WorkerStop>;
  private resolveStopped!: (s: WorkerStop) => void;
  private readonly data = new Map<string, Stored>();
  private nbytes = 0;
  /** run id -> what is executing, for heartbeats. */
  private readonly executing = new Map<number, { key: string; started: number }>();
  private pool?: TaskThreadPool;
  private conn?: Connection;
  private heartbeat?: NodeJS.Timeout;
  private stopping = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: WorkerRuntimeOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.stopped = new Promise((r) => (this.resolveStopped = r));
  }

  /** Bytes of results held. */
  get heldBytes(): number {
    return this.nbytes;
  }

  /**
   * Connects and registers. Resolves once the scheduler accepted the worker.
   *
   * @throws EbbtideError `SCHEDULER_UNREACHABLE` if the scheduler cannot be reached or refuses
   *   the registration (e.g. the name is taken).
   */
  async start(): Promise<void> {
    const { host, port } = parseAddress(this.options.scheduler);
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e) =>
        reject(new EbbtideError('SCHEDULER_UNREACHABLE', `worker ${this.options.name}: cannot connect to scheduler ${this.options.scheduler}: ${e.message}`)),
      );
    });
    // The kernel notices a vanished scheduler host this way even when no FIN ever arrives.
    socket.setKeepAlive(true, 5000);
    const conn = new Connection(socket, { accept: OPS.toWorker, onProtocolError: (e) => this.log(`ebbtide-worker ${this.options.name}: ${e.message}`) });
    this.conn = conn;
    conn.onClose = (reason) => this.stop(0, `scheduler connection closed: ${reason}`);
    conn.onMessage = (m) => {
      try {
        this.handle(m);
      } catch (e) {
        // A worker must not die of one bad request: report it and carry on.
        this.log(`ebbtide-worker ${this.options.name}: failed to handle ${m.op}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    this.pool = new TaskThreadPool(this.options.nthreads);
    let reply: { heartbeatInterval?: unknown };
    const token = this.options.token ?? process.env.EBBTIDE_TOKEN;
    try {
      reply = await conn.request({
        op: 'register-worker',
        name: this.options.name,
        nthreads: this.options.nthreads,
        memoryLimit: this.options.memoryLimit,
        labels: this.options.labels,
        pid: process.pid,
        ...(token ? { token } : {}),
        ...(this.options.resources && Object.keys(this.options.resources).length ? { resources: this.options.resources } : {}),
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await this.stop(1, `registration refused: ${message}`);
      if (e instanceof RemoteError && e.wire.kind === 'unauthorized') {
        throw new EbbtideError('CONFIG_INVALID', `worker ${this.options.name}: the scheduler at ${this.options.scheduler} refused the registration: ${message}`, {
          key: 'scheduler.embedded.token',
          hint: "set EBBTIDE_TOKEN in the worker's environment to the scheduler's scheduler.embedded.token",
        });
      }
      throw new EbbtideError('SCHEDULER_UNREACHABLE', `worker ${this.options.name}: the scheduler at ${this.options.scheduler} refused the registration: ${message}`);
    }
    const everyMs = typeof reply.heartbeatInterval === 'number' && reply.heartbeatInterval > 0 ? reply.heartbeatInterval : 500;
    this.heartbeat = setInterval(() => this.sendHeartbeat(), everyMs);
  }

  /** Stops: no more heartbeats, threads terminated, connection closed. Idempotent. */
  async stop(code: number, reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.conn?.end(reason);
    await this.pool?.terminate();
    this.resolveStopped({ code, reason });
  }

  private handle(message: Message): void {
    switch (message.op) {
      case 'compute':
        void this.compute(message);
        return;
      case 'get-data': {
        const values: unknown[] = [];
        const missing: string[] = [];
        for (const key of message.keys) {
          const stored = this.data.get(key);
          values.push(stored ? stored.value : null);
          if (!stored) missing.push(key);
        }
        this.conn!.reply(message.id, { values, missing });
        return;
      }
      case 'put-data': {
        const nbytes = message.keys.map((key, i) => this.store(key, message.values[i], Buffer.byteLength(JSON.stringify(message.values[i]) ?? 'null')));
        this.conn!.reply(message.id, { nbytes });
        return;
      }
      case 'free':
        for (const key of message.keys) this.forget(key);
        return;
      case 'close':
        void this.stop(0, `closed by the scheduler: ${message.reason}`);
        return;
      default:
        // Only accepted ops reach here (see OPS.toWorker); replies are settled by the connection.
        return;
    }
  }

  private async compute(message: ComputeMessage): Promise<void> {
    const started = performance.now();
    this.executing.set(message.run, { key: message.key, started });
    const outcome = await this.pool!.run(message.fn, message.args);
    this.executing.delete(message.run);
    const duration = (performance.now() - started) / 1000;
    if (this.stopping) return;
    if (outcome.ok) {
      const nbytes = this.store(message.key, JSON.parse(outcome.json), Buffer.byteLength(outcome.json));
      this.conn!.send({ op: 'task-finished', key: message.key, run: message.run, nbytes, duration });
    } else {
      this.conn!.send({ op: 'task-erred', key: message.key, run: message.run, duration, error: { ...outcome.error, key: message.key, worker: this.options.name } });
    }
  }

  private store(key: string, value: unknown, nbytes: number): number {
    this.forget(key);
    this.data.set(key, { value, nbytes });
    this.nbytes += nbytes;
    return nbytes;
  }

  private forget(key: string): void {
    const old = this.data.get(key);
    if (!old) return;
    this.data.delete(key);
    this.nbytes -= old.nbytes;
  }

  private sendHeartbeat(): void {
    const now = performance.now();
    const executing = [...this.executing].map(([run, e]) => ({ key: e.key, run, elapsed: (now - e.started) / 1000 }));
    this.conn?.send({ op: 'heartbeat', nbytes: this.nbytes, executing });
  }
}
