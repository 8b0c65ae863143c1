import { EbbtideError } from '@ebbtide/core/sdk';

/** Host and port of a `tcp://HOST:PORT` address. */
export interface TcpAddress {
  host: string;
  port: number;
}

/**
 * Parses `tcp://HOST:PORT` (the `tcp://` is optional; IPv6 hosts go in brackets).
 *
 * @throws EbbtideError `INPUT_INVALID` naming the address and the expected form.
 */
export function parseAddress(address: string): TcpAddress {
  const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(address.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port <= 65535)) {
    throw new EbbtideError('INPUT_INVALID', `scheduler address "${address}" is not of the form tcp://HOST:PORT with a port 1-65535`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** `tcp://HOST:PORT`, with brackets around an IPv6 host. */
export function formatAddress(host: string, port: number): string {
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** An IPv4 peer seen through a dual-stack socket (`::ffff:127.0.0.1`) as plain IPv4. */
export function plainHost(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}
