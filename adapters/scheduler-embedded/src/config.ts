import { type ConfigSchemaSection, type EbbtideConfig, EbbtideError } from '@ebbtide/core';
import { checkEmbeddedOptions } from './scheduler/checkOptions.js';
import type { EmbeddedSchedulerOptions } from './scheduler/EmbeddedSchedulerOptions.js';

/** The `scheduler.embedded.*` config section. */
export const embeddedSchema = {
  scheduler: {
    embedded: {
      host: {
        doc: 'Interface the embedded scheduler listens on for workers and clients. Anything but a loopback address (127.0.0.1, ::1, localhost) requires scheduler.embedded.token.',
        format: 'string',
        default: '127.0.0.1',
      },
      port: {
        doc: 'TCP port of the embedded scheduler; 0 picks any free port (workers are given the real address).',
        format: 'port',
        default: 0,
      },
      heartbeatInterval: {
        doc: 'How often workers report what they hold and run (also how often silent, idle and unregistered connections are looked for).',
        format: 'positive-duration',
        default: '500ms',
      },
      workerTimeout: {
        doc: 'A worker that sends nothing for this long is disconnected and its tasks re-queued; 0 = never.',
        format: 'duration',
        default: '30s',
      },
      retireTimeout: {
        doc: 'How long a retired worker may take to disconnect after being told to close before it is cut off.',
        format: 'positive-duration',
        default: '10s',
      },
      maxFrameBytes: {
        doc: 'Largest protocol frame accepted or sent (at least 64KiB); a bigger one closes the connection. Before a connection has registered, 64KiB.',
        format: 'bytes',
        default: '64MiB',
      },
      maxBufferedBytes: {
        doc: 'Most bytes of partly received frames held across all connections at once (at least maxFrameBytes); the connection whose bytes would go beyond it is closed.',
        format: 'bytes',
        default: '256MiB',
      },
      handshakeTimeout: {
        doc: 'A connection that has not registered as a worker or client this long after connecting is closed.',
        format: 'positive-duration',
        default: '10s',
      },
      idleTimeout: {
        doc: 'A registered connection that completes no message for this long is closed (workers heartbeat, clients ping at a quarter of it); 0 = never.',
        format: 'duration',
        default: '60s',
      },
      maxConnections: {
        doc: 'Most connections (workers, clients and not yet registered ones) open at once; more are closed as they arrive.',
        format: 'positive-integer',
        default: 1024,
      },
      token: {
        doc: 'Shared secret workers and clients must present (they read it from EBBTIDE_TOKEN; ebbtide passes it to the workers it starts); empty = none. Required when host is not a loopback address.',
        format: 'string',
        default: '',
        sensitive: true,
      },
      maxFrameSize: {
        doc: 'Renamed to scheduler.embedded.maxFrameBytes; setting it is an error that says so.',
        format: 'bytes',
        default: null,
        nullable: true,
      },
    },
  },
} satisfies ConfigSchemaSection;

interface EmbeddedSection {
  host: string;
  port: number;
  heartbeatInterval: number;
  workerTimeout: number;
  retireTimeout: number;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  handshakeTimeout: number;
  idleTimeout: number;
  maxConnections: number;
  token: string;
  maxFrameSize: number | null;
}

/**
 * The typed options of the embedded scheduler, from the validated config.
 *
 * @throws EbbtideError `CONFIG_INVALID` for the renamed `maxFrameSize`, and for what
 *   `checkEmbeddedOptions` refuses (a non-loopback host without a token, ...).
 */
export function embeddedOptions(config: EbbtideConfig): EmbeddedSchedulerOptions {
  const s = config.scheduler.embedded as EmbeddedSection;
  // The embedded scheduler's state (queue, results) dies with this process: workers kept for a
  // next ebbtide would have no scheduler to work for.
  if ((config.shutdown as { workers?: string } | undefined)?.workers === 'keep') {
    throw new EbbtideError('CONFIG_INVALID', 'shutdown.workers: keep needs a scheduler that outlives ebbtide; the embedded scheduler ends with this process (use stop, or scheduler.type dask)', {
      key: 'shutdown.workers',
    });
  }
  if (s.maxFrameSize !== null) {
    throw new EbbtideError('CONFIG_INVALID', 'scheduler.embedded.maxFrameSize was renamed to scheduler.embedded.maxFrameBytes (its default is now 64MiB)', {
      key: 'scheduler.embedded.maxFrameSize',
      hint: 'rename the key (env EBBTIDE_SCHEDULER_EMBEDDED_MAX_FRAME_BYTES, flag --scheduler.embedded.maxFrameBytes)',
    });
  }
  const options: EmbeddedSchedulerOptions = {
    host: s.host,
    port: s.port,
    heartbeatInterval: s.heartbeatInterval,
    workerTimeout: s.workerTimeout,
    retireTimeout: s.retireTimeout,
    maxFrameBytes: s.maxFrameBytes,
    maxBufferedBytes: s.maxBufferedBytes,
    handshakeTimeout: s.handshakeTimeout,
    idleTimeout: s.idleTimeout,
    maxConnections: s.maxConnections,
    token: s.token,
  };
  checkEmbeddedOptions(options);
  return options;
}
