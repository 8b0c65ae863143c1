import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '@ebbtide/core';
import { plainHost } from '../protocol/address.js';
import { ByteBudget } from '../protocol/ByteBudget.js';
import { Connection } from '../protocol/Connection.js';
import { OPS } from '../protocol/messages.js';
import { MIN_FRAME_BYTES } from './checkOptions.js';
import type { EmbeddedSchedulerOptions } from './EmbeddedSchedulerOptions.js';

/**
 * Largest frame accepted before a connection has registered: a registration is small, and a peer
 * that has not shown the token must not make the scheduler hold a large frame.
 */
const HANDSHAKE_MAX_FRAME_BYTES = MIN_FRAME_BYTES;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Counters of `ConnectionGate`, for tests and debugging. */
export interface ConnectionStats {
  connections: number;
  unregistered: number;
  /** Bytes of unfinished frames held across every connection. */
  bufferedBytes: number;
  /** Connections closed on arrival because `maxConnections` were open. */
  refused: number;
}

/**
 * Everything that bounds what a peer can make the scheduler hold or wait for, before and after it
 * registers: the connection limit, the frame limits (small until registered), the cap on
 * unfinished frames across connections, the handshake and idle timeouts, and the token.
 */
export class ConnectionGate {
  private readonly connections = new Set<Connection>();
  /** Connections that have not registered yet, with the time (ms) each was accepted. */
  private readonly unregistered = new Map<Connection, number>();
  private readonly budget: ByteBudget;
  private readonly tokenDigest?: Buffer;
  /** Set while accepts are refused for the connection limit, so that is logged once per episode. */
  private atLimit = false;
  private refused = 0;

  constructor(
    private readonly options: EmbeddedSchedulerOptions,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.budget = new ByteBudget(options.maxBufferedBytes);
    if (options.token !== '') this.tokenDigest = digest(options.token);
  }

  /** Every open connection (registered or not). */
  get open(): ReadonlySet<Connection> {
    return this.connections;
  }

  stats(): ConnectionStats {
    return { connections: this.connections.size, unregistered: this.unregistered.size, bufferedBytes: this.budget.used, refused: this.refused };
  }

  /**
   * A new socket as a connection that accepts only a registration, or undefined when the
   * connection limit is reached (the socket is then destroyed). The caller sets `onMessage` and
   * must call `forget` when it closes.
   */
  admit(socket: Socket): Connection | undefined {
    if (this.connections.size >= this.options.maxConnections) {
      socket.destroy();
      this.refused++;
      // Once per episode: a flood of refusals must not become a flood of log lines.
      if (!this.atLimit) {
        this.atLimit = true;
        this.log.warn({ event: 'connection.refused', remote: plainHost(socket.remoteAddress), limit: this.options.maxConnections }, 'connection limit reached: refusing new connections');
      }
      return undefined;
    }
    this.atLimit = false;
    const conn: Connection = new Connection(socket, {
      accept: OPS.toSchedulerFirst,
      maxFrameBytes: this.options.maxFrameBytes,
      budget: this.budget,
      now: this.now,
      onProtocolError: (e) => this.log.warn({ event: 'connection.malformed', remote: conn.remote, reason: e.message }, 'malformed message: connection closed'),
      onOverBudget: (holding) =>
        this.log.warn(
          { event: 'connection.over-budget', remote: conn.remote, holding, buffered: this.budget.used, limit: this.options.maxBufferedBytes },
          'buffered bytes across connections would exceed scheduler.embedded.maxBufferedBytes: connection closed',
        ),
    });
    conn.setReceiveLimit(HANDSHAKE_MAX_FRAME_BYTES);
    this.connections.add(conn);
    this.unregistered.set(conn, this.now());
    return conn;
  }

  /**
   * Checks a registration's token. On refusal it answers `unauthorized`, stops listening to the
   * connection and closes it; returns whether the registration may go on.
   */
  authorize(conn: Connection, m: { id: number; op: string; token?: string }): boolean {
    if (!this.tokenDigest || (m.token !== undefined && timingSafeEqual(digest(m.token), this.tokenDigest))) return true;
    this.log.warn({ event: 'connection.unauthorized', remote: conn.remote, as: m.op === 'register-worker' ? 'worker' : 'client' }, 'registration without the right token: connection closed');
    conn.replyError(m.id, { kind: 'unauthorized', message: m.token === undefined ? 'this scheduler requires a token (scheduler.embedded.token)' : 'wrong token' });
    conn.onMessage = () => undefined;
    conn.end('unauthorized');
    return false;
  }

  /** The connection became a worker or a client: full-size frames, and the idle timeout, from now on. */
  registered(conn: Connection): void {
    this.unregistered.delete(conn);
    conn.setReceiveLimit(this.options.maxFrameBytes);
  }

  /** The connection closed. */
  forget(conn: Connection): void {
    this.connections.delete(conn);
    this.unregistered.delete(conn);
  }

  /**
   * Closes connections that have not registered within `handshakeTimeout` (idle or half-sent
   * alike), and registered ones that completed no message within `idleTimeout` (a peer trickling
   * a frame byte by byte counts as quiet: only whole messages count).
   */
  sweep(): void {
    const now = this.now();
    const handshakeMs = this.options.handshakeTimeout * 1000;
    for (const [conn, since] of this.unregistered) {
      if (now - since <= handshakeMs) continue;
      this.unregistered.delete(conn);
      this.log.info({ event: 'connection.handshake-timeout', remote: conn.remote, buffered: conn.bufferedBytes }, 'no registration in time: connection closed');
      conn.destroy(`did not register within ${this.options.handshakeTimeout}s`);
    }
    const idleMs = this.options.idleTimeout * 1000;
    if (idleMs <= 0) return;
    for (const conn of this.connections) {
      if (this.unregistered.has(conn) || now - conn.lastMessageAt <= idleMs) continue;
      this.log.warn({ event: 'connection.idle', remote: conn.remote, buffered: conn.bufferedBytes }, 'no complete message within scheduler.embedded.idleTimeout: connection closed');
      conn.destroy(`no complete message for ${this.options.idleTimeout}s`);
    }
  }
}
