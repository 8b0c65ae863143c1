import { EbbtideError, describeError } from '@ebbtide/core';

/**
 * A client of a running ebbtide's control API (what `ebbtide status`, `explain` and `logs`
 * use). Errors are `EbbtideError`s a user can act on: nothing there (`DASHBOARD_UNREACHABLE`),
 * a missing or wrong token (`CONFIG_INVALID` on `dashboard.token`), a refused request (its code).
 *
 * @example
 * ```ts
 * const client = new ControlClient('http://127.0.0.1:8790');
 * const status = await client.get<ClusterStatus>('/api/status');
 * ```
 */
export class ControlClient {
  readonly base: string;

  constructor(
    url: string,
    private readonly token = '',
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new EbbtideError('USAGE', `--url: expected an http URL such as http://127.0.0.1:8790, got ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new EbbtideError('USAGE', `--url: expected an http URL, got ${JSON.stringify(url)}`);
    this.base = parsed.href.replace(/\/+$/, '');
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          accept: 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new EbbtideError('DASHBOARD_UNREACHABLE', `no ebbtide answers at ${this.base}: ${cause?.code ?? cause?.message ?? describeError(e)}`, {
        hint: '`ebbtide up` and `ebbtide demo` print their dashboard URL at start; pass it with --url (or set dashboard.host/dashboard.port)',
        cause: e,
      });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status === 401) {
      throw new EbbtideError('CONFIG_INVALID', `ebbtide at ${this.base} refused the request: ${this.token ? 'wrong token' : 'it needs its token'}`, {
        key: 'dashboard.token',
        hint: 'set dashboard.token (e.g. EBBTIDE_DASHBOARD_TOKEN) to the token that ebbtide was started with',
      });
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      if (res.status === 404 && !err) throw new EbbtideError('DASHBOARD_UNREACHABLE', `${this.base} answers, but not as an ebbtide dashboard (HTTP 404 for ${path})`);
      // 4xx: the request named something that is not there or not allowed; 5xx: ebbtide cannot serve it now.
      throw new EbbtideError(res.status < 500 ? 'INPUT_INVALID' : 'DASHBOARD_UNREACHABLE', `ebbtide at ${this.base}: ${err?.message ?? `HTTP ${res.status}`}`);
    }
    if (parsed === undefined) throw new EbbtideError('DASHBOARD_UNREACHABLE', `${this.base} answered ${path} with something other than JSON: is it an ebbtide dashboard?`);
    return parsed as T;
  }
}
