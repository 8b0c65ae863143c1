import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/frames.js';

/** Settings of an embedded scheduler (durations in seconds, as ebbtide's config yields them). */
export interface EmbeddedSchedulerOptions {
  /** Interface to listen on. A non-loopback one requires `token`. */
  host: string;
  /** TCP port; 0 = any free port (read the chosen one from `address`). */
  port: number;
  /** How often workers send heartbeats (and how often liveness and timeouts are checked). */
  heartbeatInterval: number;
  /** A worker silent for this long is disconnected; 0 = never. */
  workerTimeout: number;
  /** How long a retired worker may take to disconnect after `close` before it is cut off. */
  retireTimeout: number;
  /** Largest frame body accepted or sent, per frame. */
  maxFrameBytes: number;
  /** Most bytes of partly received frames held across all connections at once. */
  maxBufferedBytes: number;
  /** A connection must register (as worker or client) within this long of connecting. */
  handshakeTimeout: number;
  /** A registered connection that completes no message for this long is closed; 0 = never. */
  idleTimeout: number;
  /** Most connections open at once (registered or not); more are refused at accept. */
  maxConnections: number;
  /** Shared secret every worker and client must present when registering; '' = none. */
  token: string;
}

/** The defaults, matching the `scheduler.embedded.*` config defaults. */
export const DEFAULT_EMBEDDED_OPTIONS: EmbeddedSchedulerOptions = {
  host: '127.0.0.1',
  port: 0,
  heartbeatInterval: 0.5,
  workerTimeout: 30,
  retireTimeout: 10,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxBufferedBytes: 4 * DEFAULT_MAX_FRAME_BYTES,
  handshakeTimeout: 10,
  idleTimeout: 60,
  maxConnections: 1024,
  token: '',
};
