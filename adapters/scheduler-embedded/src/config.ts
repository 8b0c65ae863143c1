import type { ConfigSchemaSection, EbbtideConfig } from '@ebbtide/core';
import type { EmbeddedSchedulerOptions } from './scheduler/EmbeddedSchedulerOptions.js';

/** The `scheduler.embedded.*` config section. */
export const embeddedSchema = {
  scheduler: {
    embedded: {
      host: {
        doc: 'Interface the embedded scheduler listens on for workers and clients.',
        format: 'string',
        default: '127.0.0.1',
      },
      port: {
        doc: 'TCP port of the embedded scheduler; 0 picks any free port (workers are given the real address).',
        format: 'port',
        default: 0,
      },
      heartbeatInterval: {
        doc: 'How often workers report what they hold and run (also how often silent workers are looked for).',
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
      maxFrameSize: {
        doc: 'Largest protocol frame accepted or sent; a bigger one closes the connection.',
        format: 'bytes',
        default: '256MiB',
      },
    },
  },
} satisfies ConfigSchemaSection;

/** The typed options of the embedded scheduler, from the validated config. */
export function embeddedOptions(config: EbbtideConfig): EmbeddedSchedulerOptions {
  const s = config.scheduler.embedded as {
    host: string;
    port: number;
    heartbeatInterval: number;
    workerTimeout: number;
    retireTimeout: number;
    maxFrameSize: number;
  };
  return {
    host: s.host,
    port: s.port,
    heartbeatInterval: s.heartbeatInterval,
    workerTimeout: s.workerTimeout,
    retireTimeout: s.retireTimeout,
    maxFrameBytes: s.maxFrameSize,
  };
}
