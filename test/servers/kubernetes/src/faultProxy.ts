import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** What to do with a request a rule matches. */
export type FaultAction =
  /** Answer with this status (a Kubernetes `Status` body) without forwarding; 429 carries Retry-After. */
  | { kind: 'status'; status: number; retryAfter?: number; message?: string }
  /** Forward after a delay: a slow reply. */
  | { kind: 'delay'; ms: number }
  /** Forward, let the apiserver act, then cut the client's connection instead of replying: a request that timed out after it happened. */
  | { kind: 'drop-reply' }
  /** Cut the connection without forwarding. */
  | { kind: 'reset' }
  /** Forward a watch and cut its stream after `afterMs`. */
  | { kind: 'drop-watch'; afterMs: number }
  /** Answer a watch with the apiserver's "too old resource version" ERROR event (code 410), then close. */
  | { kind: 'gone' };

export interface FaultRule {
  /** HTTP method (any when absent). */
  method?: string;
  /** RegExp source tested against the path and query (any when absent). */
  path?: string;
  /** true: only watch requests; false: only non-watch requests. */
  watch?: boolean;
  action: FaultAction;
  /** How many requests it applies to (default 1; 0 = every one). */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  watch: boolean;
  /** Status sent to the client (0 when the connection was cut). */
  status: number;
  fault?: FaultAction['kind'];
  at: number;
}

export interface FaultProxyOptions {
  /** The apiserver, e.g. https://127.0.0.1:6443. */
  target: string;
  /** CA of the apiserver's certificate (also trusted by the proxy's clients). */
  ca: Buffer;
  /** The proxy's own serving certificate and key (for 127.0.0.1). */
  cert: Buffer;
  key: Buffer;
  port?: number;
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'AlreadyExists', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
const CONTROL = '/_faultproxy/';

function isWatch(url: string): boolean {
  const q = new URL(url, 'https://x').searchParams.get('watch');
  return q === 'true' || q === '1' || url.includes('/watch/');
}

function statusBody(code: number, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code });
}

/**
 * An HTTPS proxy between a Kubernetes client and the apiserver that injects faults by rule:
 * 429 with Retry-After, 500/503, slow replies, replies lost after the apiserver acted, dropped
 * watch streams and 410 "too old resource version". It forwards the client's credentials as they
 * are and logs every request (method, path, status), which the benchmark counts.
 *
 * Rules can be set in-process (`add`) or over HTTP on the proxy's own port (for a client in
 * another process): `POST /_faultproxy/rules` (a FaultRule as JSON), `DELETE /_faultproxy/rules`,
 * `POST /_faultproxy/drop-watches`, `GET /_faultproxy/log`.
 */
export class FaultProxy {
  readonly log: ProxiedRequest[] = [];
  private rules: FaultRule[] = [];
  private readonly watches = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private readonly agent: Agent;
  private readonly server;
  url = '';

  private constructor(private readonly o: FaultProxyOptions) {
    this.agent = new Agent({ keepAlive: true, ca: o.ca, maxSockets: 256 });
    this.server = createServer({ cert: o.cert, key: o.key }, (req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(o: FaultProxyOptions): Promise<FaultProxy> {
    const p = new FaultProxy(o);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
    });
    p.url = `https://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
    return p;
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, times: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** Cuts every watch stream open right now. */
  dropWatches(): number {
    const n = this.watches.size;
    for (const res of this.watches) res.destroy();
    this.watches.clear();
    return n;
  }

  /** Requests logged since `from` (an index into `log`), optionally only those matching. */
  requests(from = 0, filter?: (r: ProxiedRequest) => boolean): ProxiedRequest[] {
    const l = this.log.slice(from);
    return filter ? l.filter(filter) : l;
  }

  async close(): Promise<void> {
    this.dropWatches();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private take(method: string, url: string, watch: boolean): FaultAction | undefined {
    for (const r of this.rules) {
      if (r.method && r.method.toUpperCase() !== method) continue;
      if (r.watch !== undefined && r.watch !== watch) continue;
      if (r.path && !new RegExp(r.path).test(url)) continue;
      if (r.times !== 0) {
        r.times!--;
        if (r.times === 0) this.rules.splice(this.rules.indexOf(r), 1);
      }
      return r.action;
    }
    return undefined;
  }

  private control(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const path = req.url!.slice(CONTROL.length);
      const json = (code: number, v: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      };
      try {
        if (path === 'rules' && req.method === 'POST') {
          this.add(JSON.parse(body) as FaultRule);
          return json(200, { rules: this.rules.length });
        }
        if (path === 'rules' && req.method === 'DELETE') {
          this.clear();
          return json(200, { rules: 0 });
        }
        if (path === 'drop-watches' && req.method === 'POST') return json(200, { dropped: this.dropWatches() });
        if (path === 'log' && req.method === 'GET') return json(200, this.log);
        json(404, { error: `unknown control ${req.method} ${req.url}` });
      } catch (e) {
        json(400, { error: String(e) });
      }
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith(CONTROL)) return this.control(req, res);
    const method = req.method ?? 'GET';
    const watch = isWatch(url);
    const action = this.take(method, url, watch);
    const entry: ProxiedRequest = { method, url, watch, status: 0, at: Date.now(), ...(action ? { fault: action.kind } : {}) };
    this.log.push(entry);
    if (action?.kind === 'status') {
      req.resume();
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (action.retryAfter !== undefined) headers['retry-after'] = String(action.retryAfter);
      entry.status = action.status;
      res.writeHead(action.status, headers).end(statusBody(action.status, action.message ?? `injected by the fault proxy: ${action.status}`));
      return;
    }
    if (action?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (action?.kind === 'gone' && watch) {
      req.resume();
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      const status = JSON.parse(statusBody(410, 'too old resource version (injected by the fault proxy)')) as Record<string, unknown>;
      status.reason = 'Expired';
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    const forward = () => this.forward(req, res, entry, action, watch);
    if (action?.kind === 'delay') setTimeout(forward, action.ms);
    else forward();
  }

  private forward(req: IncomingMessage, res: ServerResponse, entry: ProxiedRequest, action: FaultAction | undefined, watch: boolean): void {
    const target = new URL(req.url ?? '/', this.o.target);
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host };
    for (const h of HOP) delete headers[h];
    const up = request(target, { method: req.method, headers, agent: this.agent }, (upRes) => {
      if (action?.kind === 'drop-reply') {
        upRes.resume();
        upRes.on('end', () => req.socket.destroy());
        return;
      }
      entry.status = upRes.statusCode ?? 502;
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
      res.writeHead(entry.status, out);
      if (watch) {
        res.flushHeaders();
        this.watches.add(res);
        res.on('close', () => {
          this.watches.delete(res);
          upRes.destroy();
        });
        if (action?.kind === 'drop-watch') setTimeout(() => res.destroy(), action.afterMs);
      }
      upRes.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end(statusBody(502, `fault proxy: upstream error ${e.message}`));
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }
}
