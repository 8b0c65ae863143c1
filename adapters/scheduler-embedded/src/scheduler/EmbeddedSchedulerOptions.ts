import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/frames.js';

/** Settings of an embedded scheduler (durations in seconds, as ebbtide's config yields them). */
export interface EmbeddedSchedulerOptions {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 = any free port (read the chosen one from `address`). */
  port: number;
  /** How often workers send heartbeats (and how often liveness is checked). */
  heartbeatInterval: number;
  /** A worker silent for this long is disconnected; 0 = never. */
  workerTimeout: number;
  /** How long a retired worker may take to disconnect after `close` before it is cut off. */
  retireTimeout: number;
  /** Largest frame body accepted or sent. */
  maxFrameBytes: number;
}

/** The defaults, matching the `scheduler.embedded.*` config defaults. */
export const DEFAULT_EMBEDDED_OPTIONS: EmbeddedSchedulerOptions = {
  host: '127.0.0.1',
  port: 0,
  heartbeatInterval: 0.5,
  workerTimeout: 30,
  retireTimeout: 10,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
};
