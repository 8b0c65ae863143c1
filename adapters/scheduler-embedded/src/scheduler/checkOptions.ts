import { EbbtideError } from '@ebbtide/core';
import type { EmbeddedSchedulerOptions } from './EmbeddedSchedulerOptions.js';

/** Smallest frame limit that still fits registration and control messages. */
export const MIN_FRAME_BYTES = 64 * 1024;

/**
 * True for an interface only this machine can reach: `localhost`, `127.0.0.0/8`, `::1` (also
 * written as an IPv4-mapped address). Anything else, `0.0.0.0` and host names included, counts as
 * reachable from the network: resolving a name would be I/O, and a name can change its address.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const MiB = 1024 * 1024;
const size = (n: number) => (n % MiB === 0 ? `${n / MiB}MiB` : `${n} bytes`);

/**
 * Refuses settings the scheduler cannot run safely with, naming the key: a non-loopback bind
 * without a token (anyone who can reach the port could run code on every worker), a frame limit
 * too small for control messages, a buffer cap below one frame.
 *
 * @throws EbbtideError `CONFIG_INVALID`
 */
export function checkEmbeddedOptions(o: EmbeddedSchedulerOptions): void {
  if (!isLoopbackHost(o.host) && o.token === '') {
    throw new EbbtideError(
      'CONFIG_INVALID',
      `scheduler.embedded.host: "${o.host}" is reachable from other machines, and scheduler.embedded.token is not set: anyone who can reach the port could run code on the workers`,
      {
        key: 'scheduler.embedded.host',
        hint: 'set scheduler.embedded.token (env EBBTIDE_SCHEDULER_EMBEDDED_TOKEN) to a long random secret; workers and clients then need EBBTIDE_TOKEN set to it. Or bind 127.0.0.1.',
      },
    );
  }
  if (!(o.maxFrameBytes >= MIN_FRAME_BYTES)) {
    throw new EbbtideError('CONFIG_INVALID', `scheduler.embedded.maxFrameBytes: expected at least ${size(MIN_FRAME_BYTES)}, got ${size(o.maxFrameBytes)}`, {
      key: 'scheduler.embedded.maxFrameBytes',
    });
  }
  if (!(o.maxBufferedBytes >= o.maxFrameBytes)) {
    throw new EbbtideError(
      'CONFIG_INVALID',
      `scheduler.embedded.maxBufferedBytes: expected at least scheduler.embedded.maxFrameBytes (${size(o.maxFrameBytes)}), got ${size(o.maxBufferedBytes)}: no frame of the largest size could ever be received`,
      { key: 'scheduler.embedded.maxBufferedBytes' },
    );
  }
}
