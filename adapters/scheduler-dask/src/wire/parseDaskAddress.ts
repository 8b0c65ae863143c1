import { EbbtideError } from '@ebbtide/core';

/** Dask's default scheduler port, used when an address names no port (as Dask does). */
export const DEFAULT_SCHEDULER_PORT = 8786;

export interface DaskAddress {
  host: string;
  port: number;
  /** Canonical form: `tcp://host:port` (IPv6 hosts in brackets). */
  address: string;
}

/**
 * Parses a Dask scheduler address: `tcp://host:port`, `host:port`, `tcp://[::1]:8786`, or a
 * host alone (port 8786).
 *
 * @throws EbbtideError `CONFIG_INVALID` naming `key` for an empty address, another protocol
 *   (`tls://`, `ucx://`, `inproc://` are not supported) or a bad port.
 * @example parseDaskAddress('tcp://10.0.0.5:8786') // { host: '10.0.0.5', port: 8786, address: 'tcp://10.0.0.5:8786' }
 */
export function parseDaskAddress(value: string, key = 'scheduler.address'): DaskAddress {
  const text = value.trim();
  const fail = (why: string): never => {
    throw new EbbtideError('CONFIG_INVALID', `${key}: ${why}, got ${JSON.stringify(value)}`, {
      key,
      hint: 'give the Dask scheduler address as tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786',
    });
  };
  if (text === '') fail('expected the address of a Dask scheduler (tcp://HOST:PORT), but it is empty');
  let rest = text;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'tcp') fail(`only tcp:// addresses are supported, not ${scheme[1]}://`);
    rest = text.slice(scheme[0].length);
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-f:.]+)\](?::(.*))?$/i.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) fail('expected HOST:PORT (put IPv6 hosts in brackets: tcp://[::1]:8786)');
    host = parts[0]!;
    portText = parts[1];
  }
  if (host === '' || /[\s/?#@]/.test(host)) fail('expected a host name or IP address before the port');
  let port = DEFAULT_SCHEDULER_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) fail('expected a port 1-65535 after the host');
    port = Number(portText);
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  return { host, port, address: `tcp://${shown}:${port}` };
}
