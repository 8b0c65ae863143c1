import type { Socket } from 'node:net';
import { EbbtideError } from '@ebbtide/core/sdk';
import type { ByteBudget } from './ByteBudget.js';
import { ChunkReleaser } from './ChunkReleaser.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from './frames.js';
import { type Message, type Op, type ReplyMessage, type RequestBody, type WireError, checkMessage } from './messages.js';
import { plainHost } from './address.js';

/** Socket chunks are ours once received: the decoder may free them as soon as they are copied. */
const releaser = new ChunkReleaser();

/** A request that was answered with `ok: false`; `wire` is the peer's error. */
export class RemoteError extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
    this.name = 'RemoteError';
  }
}

export interface ConnectionOptions {
  /** Ops accepted from the peer at first; see `OPS`. */
  accept: ReadonlySet<Op>;
  /** Largest frame sent, and received once `setReceiveLimit` has not lowered it. */
  maxFrameBytes?: number;
  /** Called with the reason when the peer broke the protocol; the connection is then destroyed. */
  onProtocolError?: (error: EbbtideError) => void;
  /**
   * Shared cap the bytes of partly received frames are charged to; a chunk that would take it
   * above the cap closes this connection (after `onOverBudget`).
   */
  budget?: ByteBudget;
  onOverBudget?: (holding: number) => void;
  /** Clock for `lastMessageAt` (ms). Default `Date.now`. */
  now?: () => number;
}

/**
 * A framed, message-oriented view of a TCP socket: one-way sends, request/reply by `id`, and
 * protocol checking of everything received. A malformed frame or a message the current stage
 * does not accept destroys the connection (there is no way to resynchronise a byte stream).
 */
export class Connection {
  /** Called for every message that is not a reply. Exceptions are the caller's to handle. */
  onMessage: (message: Message) => void = () => undefined;
  /** Called once when the socket is closed, before pending requests are rejected. */
  onClose: (reason: string) => void = () => undefined;
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  /** `host:port` of the peer, for logs and `WorkerInfo.address`. */
  readonly remote: string;
  readonly remoteHost: string;
  private accept: ReadonlySet<Op>;
  private readonly decoder: FrameDecoder;
  private readonly maxFrameBytes: number;
  private readonly pending = new Map<number, { resolve: (r: ReplyMessage & { ok: true }) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private closeReason = 'connection closed';
  private isClosed = false;
  private readonly budget?: ByteBudget;
  /** Bytes charged to `budget`: what the decoder holds. */
  private charged = 0;
  private readonly now: () => number;
  private lastMessage: number;

  constructor(
    private readonly socket: Socket,
    options: ConnectionOptions,
  ) {
    this.accept = options.accept;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.decoder = new FrameDecoder(this.maxFrameBytes, releaser);
    if (options.budget) this.budget = options.budget;
    this.now = options.now ?? Date.now;
    this.lastMessage = this.now();
    this.remoteHost = plainHost(socket.remoteAddress);
    this.remote = `${this.remoteHost}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    socket.on('data', (chunk: Buffer) => this.receive(chunk, options));
    socket.on('error', (e) => {
      this.closeReason = e.message;
    });
    socket.on('close', () => {
      this.isClosed = true;
      // What a peer sent of an unfinished frame goes now, not when this object is collected.
      this.decoder.clear();
      this.budget?.recharge(this.charged, 0);
      this.charged = 0;
      this.onClose(this.closeReason);
      const error = new EbbtideError('SCHEDULER_UNREACHABLE', `connection to ${this.remote} closed: ${this.closeReason}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      resolveClosed();
    });
  }

  /** True once the socket has closed. */
  get isOpen(): boolean {
    return !this.isClosed && !this.socket.destroyed;
  }

  /** Changes which ops are accepted from now on (after a peer registered as worker or client). */
  acceptOps(ops: ReadonlySet<Op>): void {
    this.accept = ops;
  }

  /** Largest frame accepted from the peer from the next frame on (at most `maxFrameBytes`). */
  setReceiveLimit(bytes: number): void {
    this.decoder.setMaxFrameBytes(Math.min(bytes, this.maxFrameBytes));
  }

  /** When (on the `now` clock) the peer last completed a message; the connect time before that. */
  get lastMessageAt(): number {
    return this.lastMessage;
  }

  /** Bytes of a partly received frame held for this connection. */
  get bufferedBytes(): number {
    return this.decoder.buffered;
  }

  /**
   * Sends a one-way message. Returns false if the connection is already closed (the message is
   * dropped: the close handler deals with whatever it was about).
   */
  send(message: Message): boolean {
    if (!this.isOpen) return false;
    this.socket.write(encodeFrame(message, this.maxFrameBytes));
    return true;
  }

  /**
   * Sends a request and resolves with the peer's `ok` reply.
   *
   * @throws RemoteError when the peer answers `ok: false`; EbbtideError `SCHEDULER_UNREACHABLE`
   *   when the connection closes first.
   */
  request<R extends object = Record<string, unknown>>(body: RequestBody): Promise<R & { ok: true }> {
    if (!this.isOpen) {
      return Promise.reject(new EbbtideError('SCHEDULER_UNREACHABLE', `connection to ${this.remote} is closed: ${this.closeReason}`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as unknown as (r: ReplyMessage & { ok: true }) => void, reject });
      try {
        this.send({ ...body, id } as Message);
      } catch (e) {
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  /** Answers request `id` with `ok: true` and `payload`. */
  reply(id: number, payload: Record<string, unknown> = {}): void {
    try {
      this.send({ ...payload, op: 'reply', id, ok: true });
    } catch (e) {
      // Typically a reply larger than the frame limit: the requester gets the reason instead.
      this.replyError(id, { kind: 'internal', message: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Answers request `id` with `ok: false`. */
  replyError(id: number, error: WireError): void {
    this.send({ op: 'reply', id, ok: false, error });
  }

  /** Half-closes after queued writes are flushed; `closed` resolves when the peer has closed too. */
  end(reason = 'closed locally'): void {
    this.closeReason = reason;
    this.socket.end();
  }

  /** Closes at once. */
  destroy(reason = 'closed locally'): void {
    this.closeReason = reason;
    this.socket.destroy();
  }

  private receive(chunk: Buffer, options: ConnectionOptions): void {
    const fail = (e: unknown): void => {
      const error = e instanceof EbbtideError ? e : new EbbtideError('SCHEDULER_PROTOCOL', String(e));
      options.onProtocolError?.(error);
      this.destroy(`protocol error: ${error.message}`);
    };
    this.decoder.write(chunk);
    while (this.isOpen) {
      let message: Message;
      try {
        const raw = this.decoder.next();
        if (!raw) break;
        this.lastMessage = this.now();
        // Checked one at a time: handling a registration changes which ops (and frame sizes) are
        // accepted next.
        message = checkMessage(raw, this.accept);
      } catch (e) {
        fail(e);
        return;
      }
      if (message.op === 'reply') this.settle(message);
      else this.onMessage(message);
    }
    if (this.budget && this.isOpen) {
      const holds = this.decoder.buffered;
      if (!this.budget.recharge(this.charged, holds)) {
        options.onOverBudget?.(holds);
        this.decoder.clear();
        this.destroy(`buffered bytes cap: ${holds} bytes of an unfinished frame would take the total above ${this.budget.cap}`);
        return;
      }
      this.charged = holds;
    }
  }

  private settle(reply: ReplyMessage): void {
    const p = this.pending.get(reply.id);
    // A reply nobody waits for (its request's caller gave up) is harmless: drop it.
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply);
    else p.reject(new RemoteError(reply.error));
  }
}
