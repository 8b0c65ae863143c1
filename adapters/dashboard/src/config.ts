import { type ConfigSchemaSection, type EbbtideConfig, EbbtideError } from '@ebbtide/core';

/** The `dashboard.*` config section. */
export const dashboardSchema = {
  dashboard: {
    enabled: {
      doc: 'Serve the control and observation API, Prometheus metrics and the live page while `ebbtide up` or `ebbtide demo` runs (see docs/dashboard.md).',
      format: 'boolean',
      default: true,
    },
    host: {
      doc: 'Address the dashboard server binds. Anything but loopback (127.0.0.1, ::1, localhost) is refused unless dashboard.token is set.',
      format: 'string',
      default: '127.0.0.1',
    },
    port: {
      doc: 'Port of the dashboard server; 0 = any free port. The URL is printed at start; when the port is taken, a free one is used and a warning says so (as Dask does for its dashboard).',
      format: 'port',
      default: 8790,
    },
    token: {
      doc: 'Bearer token every request must carry (header Authorization: Bearer TOKEN, or ?access_token=TOKEN for the page and its event stream). Empty: no token, and only a loopback host is allowed. `ebbtide status`, `explain` and `logs` send it.',
      format: 'string',
      default: '',
      sensitive: true,
    },
  },
} satisfies ConfigSchemaSection;

export interface DashboardOptions {
  enabled: boolean;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Empty: none. */
  token: string;
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The typed options, checked: a host other than loopback needs a token, so `ebbtide up` never
 * opens an unauthenticated control API (it can stop workers) to the network.
 *
 * @throws EbbtideError `CONFIG_INVALID` (key `dashboard.host`).
 */
export function dashboardOptions(config: EbbtideConfig): DashboardOptions {
  const s = (config as unknown as { dashboard: DashboardOptions }).dashboard;
  const options: DashboardOptions = { enabled: s.enabled, host: s.host.trim(), port: s.port, token: s.token };
  if (!options.host) throw new EbbtideError('CONFIG_INVALID', 'dashboard.host: expected an address to bind, such as "127.0.0.1", got ""', { key: 'dashboard.host' });
  if (options.enabled && !isLoopbackHost(options.host) && !options.token) {
    throw new EbbtideError(
      'CONFIG_INVALID',
      `dashboard.host: ${JSON.stringify(options.host)} is reachable from other machines, and the dashboard can scale and stop workers; refused without dashboard.token`,
      { key: 'dashboard.host', hint: 'set dashboard.token (e.g. EBBTIDE_DASHBOARD_TOKEN) to a long random secret, or bind 127.0.0.1' },
    );
  }
  return options;
}

/** The URL a client on this machine uses to reach a dashboard bound to `host:port`. */
export function dashboardUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
