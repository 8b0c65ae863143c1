import { connect as netConnect, type Socket } from 'node:net';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { EbbtideError, describeError } from '@ebbtide/core';
import { decodeMessage, encodeMessage } from './daskMsgpack.js';
import { FrameReader, encodeFrames } from './frames.js';
import { parseDaskAddress } from './parseDaskAddress.js';

/**
 * What we tell the scheduler about ourselves. Dask requires `compression` and
 * `pickle-protocol`; `compression: null` means "none" (Dask falls back to none whenever the two
 * sides differ). `python` is informational only.
 */
export const CLIENT_HANDSHAKE = { compression: null, python: [3, 11, 2], 'pickle-protocol': 5 } as const;

export interface DaskCommOptions {
  /** Deadline for TCP connect plus the handshake, in ms. */
  connectTimeoutMs: number;
  /** Default deadline of one call, in ms. */
  callTimeoutMs: number;
  /** Timers run on this scheduler (the injected `RX_SCHEDULER`); `asyncScheduler` by default. */
  rx?: SchedulerLike;
}

export interface CallOptions {
  /** Overrides the comm's default call deadline (ms). */
  timeoutMs?: number;
  /**
   * The op may legitimately return `None`. Otherwise a nil reply is an error, because Dask
   * answers nil when it has no handler for the op.
   */
  allowNil?: boolean;
}

interface PendingCall {
  op: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  allowNil: boolean;
  timer: Subscription;
}

/**
 * One TCP connection to a Dask server speaking Dask's comm protocol: u64-LE framing, msgpack
 * frame 0, the server's handshake first, then request/reply RPC (`{op, reply: true, ...}`).
 *
 * Calls are serialised: one request is on the wire at a time, later calls wait their turn. A
 * call that times out closes the connection, since a late reply would otherwise be read as the
 * answer to the next request.
 *
 * @example
 * ```ts
 * const comm = await DaskComm.connect('tcp://127.0.0.1:8786', { connectTimeoutMs: 10_000, callTimeoutMs: 10_000 });
 * const identity = await comm.call('identity');
 * comm.close();
 * ```
 */
export class DaskComm {
  /** The scheduler's handshake (`compression`, `python`, `pickle-protocol`). */
  peerHandshake: Record<string, unknown> = {};
  /** Bytes received and sent, handshakes included (for measuring poll cost). */
  bytesRead = 0;
  bytesWritten = 0;
  /** Resolves with the reason once the connection is closed, for whatever cause. Never rejects. */
  readonly closed: Promise<string>;

  private readonly reader = new FrameReader();
  private readonly rx: SchedulerLike;
  private handshaken = false;
  private tcpConnected = false;
  /** Set by `close()`: end the socket gracefully instead of destroying it. */
  private ending = false;
  private closeError?: EbbtideError;
  private pending?: PendingCall;
  private queue: Promise<unknown> = Promise.resolve();
  private settleReady!: { resolve(): void; reject(e: unknown): void };
  private readonly ready: Promise<void>;
  private resolveClosed!: (reason: string) => void;

  private constructor(
    private readonly socket: Socket,
    /** Canonical `tcp://host:port` of the peer. */
    readonly address: string,
    private readonly options: DaskCommOptions,
  ) {
    this.rx = options.rx ?? asyncScheduler;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => undefined);
    socket.setNoDelay(true);
    socket.once('connect', () => (this.tcpConnected = true));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(this.socketError(err)));
    socket.on('close', () => this.fail(this.closedError()));
  }

  /**
   * Connects, reads the scheduler's handshake and answers it.
   *
   * @param address `tcp://host:port` (see `parseDaskAddress`).
   * @throws EbbtideError `SCHEDULER_UNREACHABLE` (connection refused, unknown host, timeout),
   *   `SCHEDULER_PROTOCOL` (the peer is not a Dask server, or an incompatible one),
   *   `CONFIG_INVALID` (malformed address).
   */
  static async connect(address: string, options: DaskCommOptions): Promise<DaskComm> {
    const parsed = parseDaskAddress(address);
    const socket = netConnect({ host: parsed.host, port: parsed.port });
    const comm = new DaskComm(socket, parsed.address, options);
    const deadline = comm.rx.schedule(() => {
      comm.fail(
        !comm.tcpConnected
          ? unreachable(comm.address, `no TCP connection within ${seconds(options.connectTimeoutMs)}`)
          : protocolError(
              comm.address,
              `connected, but received no Dask handshake within ${seconds(options.connectTimeoutMs)}; is this the scheduler's comm port (not its dashboard)?`,
              true,
            ),
      );
    }, options.connectTimeoutMs);
    try {
      await comm.ready;
    } finally {
      deadline.unsubscribe();
    }
    return comm;
  }

  /** True once the connection is closed; every later call fails. */
  get isClosed(): boolean {
    return this.closeError !== undefined;
  }

  /**
   * Sends `{op, reply: true, ...args}` and resolves with the decoded reply.
   *
   * @throws EbbtideError `SCHEDULER_PROTOCOL` when the scheduler raised (its `exception_text` is in
   *   the message and in `data.exceptionText`), has no handler for `op`, or replied with garbage;
   *   `SCHEDULER_UNREACHABLE` when the connection is lost or the reply is late.
   */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    const run = this.queue.then(() => this.send(op, args, options));
    this.queue = run.catch(() => undefined);
    return run as Promise<T>;
  }

  /** Closes the connection; a call in flight fails with `SCHEDULER_UNREACHABLE`. Idempotent. */
  close(reason = 'closed by ebbtide'): void {
    if (this.isClosed) return;
    // Tell the server politely, without waiting: Dask ends its handler on op "close".
    if (this.handshaken && !this.pending) this.write({ op: 'close', reply: false });
    this.ending = true;
    this.fail(unreachable(this.address, reason, false));
    this.socket.end();
  }

  private send(op: string, args: Record<string, unknown>, options: CallOptions): Promise<unknown> {
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs;
      const timer = this.rx.schedule(() => {
        this.fail(unreachable(this.address, `no reply to op "${op}" within ${seconds(timeoutMs)}`, true, { op }));
      }, timeoutMs);
      this.pending = { op, resolve, reject, allowNil: options.allowNil ?? false, timer };
      this.write({ op, reply: true, ...args });
    });
  }

  private write(msg: Record<string, unknown>): void {
    const bytes = encodeFrames([encodeMessage(msg)]);
    this.bytesWritten += bytes.byteLength;
    this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    this.bytesRead += chunk.byteLength;
    let messages: Buffer[][];
    try {
      messages = this.reader.push(chunk);
    } catch (e) {
      const what = this.handshaken ? 'sent bytes that are not Dask framing' : 'does not speak the Dask comm protocol';
      this.fail(protocolError(this.address, `${what} (${describeError(e)})`, false, { cause: e }));
      return;
    }
    for (const frames of messages) {
      if (this.isClosed) return;
      this.onMessage(frames);
    }
  }

  private onMessage(frames: Buffer[]): void {
    let msg: unknown;
    try {
      msg = decodeMessage(frames[0]!);
    } catch (e) {
      this.fail(protocolError(this.address, `sent a frame that is not msgpack (${describeError(e)})`, false, { cause: e }));
      return;
    }
    if (!this.handshaken) {
      this.onHandshake(msg);
      return;
    }
    const call = this.pending;
    if (!call) {
      this.fail(protocolError(this.address, 'sent a message nobody asked for', false));
      return;
    }
    this.pending = undefined;
    call.timer.unsubscribe();
    if (msg === null || msg === undefined) {
      if (call.allowNil) call.resolve(null);
      else {
        call.reject(
          protocolError(
            this.address,
            `has no handler for op "${call.op}" (it replied nil); this Dask version does not support what ebbtide needs`,
            false,
            { op: call.op },
          ),
        );
      }
      return;
    }
    const error = remoteError(msg);
    if (error !== undefined) {
      call.reject(
        new EbbtideError('SCHEDULER_PROTOCOL', `Dask scheduler at ${this.address} raised an error in op "${call.op}": ${error.exceptionText}`, {
          key: 'scheduler.address',
          data: { op: call.op, exceptionText: error.exceptionText, tracebackText: error.tracebackText, retryable: false },
        }),
      );
      return;
    }
    call.resolve(msg);
  }

  private onHandshake(msg: unknown): void {
    const h = msg as Record<string, unknown> | null;
    if (typeof h !== 'object' || h === null || Array.isArray(h) || !('compression' in h) || !('pickle-protocol' in h)) {
      this.fail(
        protocolError(
          this.address,
          `sent a handshake without "compression" and "pickle-protocol" (${describeShape(msg)}); expected a Dask scheduler, distributed 2022.x or newer`,
          false,
        ),
      );
      return;
    }
    this.peerHandshake = h;
    this.handshaken = true;
    this.write({ ...CLIENT_HANDSHAKE });
    this.settleReady.resolve();
  }

  /** Ends the connection once: rejects whatever waits, destroys the socket, resolves `closed`. */
  private fail(error: EbbtideError): void {
    if (this.closeError) return;
    this.closeError = error;
    const call = this.pending;
    this.pending = undefined;
    if (call) {
      call.timer.unsubscribe();
      call.reject(error);
    }
    this.settleReady.reject(error);
    if (!this.ending) this.socket.destroy();
    this.resolveClosed(error.message);
  }

  private socketError(err: Error & { code?: string }): EbbtideError {
    if (!this.tcpConnected) {
      return unreachable(this.address, `cannot connect: ${describeError(err)}`, true, { cause: err, errno: err.code });
    }
    const during = this.pending ? ` while waiting for the reply to "${this.pending.op}"` : '';
    return unreachable(this.address, `connection lost${during}: ${describeError(err)}`, true, { cause: err, errno: err.code });
  }

  private closedError(): EbbtideError {
    if (!this.handshaken) {
      return protocolError(this.address, 'closed the connection before sending a Dask handshake', true);
    }
    const during = this.pending ? ` while waiting for the reply to "${this.pending.op}"` : '';
    return unreachable(this.address, `the scheduler closed the connection${during}`, true);
  }
}

/** Dask's error reply: `{status: "uncaught-error" | "error", exception_text, traceback_text, ...}`. */
function remoteError(msg: unknown): { exceptionText: string; tracebackText: string } | undefined {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return undefined;
  const m = msg as Record<string, unknown>;
  if (m['status'] !== 'uncaught-error' && !(m['status'] === 'error' && 'exception_text' in m)) return undefined;
  return {
    exceptionText: typeof m['exception_text'] === 'string' ? m['exception_text'] : 'unknown error (no exception_text)',
    tracebackText: typeof m['traceback_text'] === 'string' ? m['traceback_text'] : '',
  };
}

function describeShape(v: unknown): string {
  if (v === null || v === undefined) return 'got nil';
  if (Array.isArray(v)) return `got an array of ${v.length}`;
  if (typeof v === 'object') return `got keys ${Object.keys(v).slice(0, 5).join(', ') || '(none)'}`;
  return `got ${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

function unreachable(address: string, why: string, retryable = true, extra: Record<string, unknown> & { cause?: unknown } = {}): EbbtideError {
  const { cause, ...data } = extra;
  return new EbbtideError('SCHEDULER_UNREACHABLE', `Dask scheduler at ${address}: ${why}`, {
    key: 'scheduler.address',
    hint: 'check that the scheduler is running and that scheduler.address names its comm port (default 8786)',
    ...(cause !== undefined ? { cause } : {}),
    data: { address, retryable, ...data },
  });
}

function protocolError(address: string, why: string, retryable: boolean, extra: Record<string, unknown> & { cause?: unknown } = {}): EbbtideError {
  const { cause, ...data } = extra;
  return new EbbtideError('SCHEDULER_PROTOCOL', `Dask scheduler at ${address}: ${why}`, {
    key: 'scheduler.address',
    hint: 'scheduler.address must name a Dask scheduler (distributed 2022.12 or newer) over tcp://',
    ...(cause !== undefined ? { cause } : {}),
    data: { address, retryable, ...data },
  });
}
