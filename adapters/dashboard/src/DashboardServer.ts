import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { type AdaptBounds, type Autoscaler, EbbtideError, type Logger, describeError, isEbbtideError, parseDuration, silentLogger } from '@ebbtide/core';
import { authorize } from './auth.js';
import { clusterStatus } from './clusterStatus.js';
import { dashboardUrl } from './config.js';
import { DashboardMetrics } from './DashboardMetrics.js';
import { DecisionStream } from './DecisionStream.js';
import { explainDecision } from './explainDecision.js';
import { HttpError, readJson, sendError, sendJson } from './json.js';
import { openApiDocument } from './openapi.js';
import type { RecentLog } from './RecentLog.js';
import { Series } from './Series.js';
import { type Asset, loadAssets } from './staticAssets.js';

export interface DashboardServerOptions {
  /** Address to bind (see `dashboardOptions` for the loopback/token rule). */
  host: string;
  /** 0 = any free port; a taken port falls back to a free one, with a warning. */
  port: number;
  /** Bearer token every request must carry; empty for none. */
  token: string;
  /** Reported by /api/status and the OpenAPI document. */
  version?: string;
  /** ebbtide's own recent log, for /api/logs. */
  recentLog?: RecentLog;
  /**
   * Called by `POST /api/shutdown`: the owner shuts down as on SIGTERM (honouring
   * `shutdown.workers`). Without it the endpoint answers 501 (`ebbtide demo`).
   */
  onShutdown?: (reason: string) => void;
  logger?: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void> | void;

/** Lines of a log returned when `lines` is not given. */
const DEFAULT_LINES = 200;

const PAGE_HEADERS = {
  // The page loads only its own assets and talks only to this server.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function wholeParam(url: URL, name: string, min: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, 'INPUT_INVALID', `${name}: expected a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * The control and observation server of `ebbtide up` and `ebbtide demo`: the JSON API (status,
 * workers, decisions, a server-sent stream of them, logs, manual `scale` and `adapt`), Prometheus
 * metrics, the OpenAPI document and the live page — on `127.0.0.1` unless configured otherwise.
 *
 * It listens before the autoscaler starts (so a bad port fails before any worker does) and
 * answers 503 until `attach`.
 *
 * @example
 * ```ts
 * const server = await DashboardServer.listen({ host: '127.0.0.1', port: 0, token: '' });
 * const auto = await Autoscaler.start(kernel);
 * server.attach(auto);
 * console.log(`dashboard at ${server.url}`);
 * ```
 */
export class DashboardServer {
  private auto?: Autoscaler;
  private stopped = false;
  private shutdownAsked = false;
  private metrics?: DashboardMetrics;
  private readonly stream = new DecisionStream();
  private readonly series = new Series();
  private sub?: Subscription;
  private readonly assets = loadAssets();
  private readonly routes: Array<{ method: string; path: RegExp; handler: Handler }>;
  private readonly logger: Logger;
  private readonly version: string;

  private constructor(
    private readonly server: Server,
    private readonly options: DashboardServerOptions,
    /** The port asked for was taken and another one is used. */
    readonly portTaken: boolean,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.version = options.version ?? '0.1.0';
    const get = (path: RegExp, handler: Handler) => ({ method: 'GET', path, handler });
    const post = (path: RegExp, handler: Handler) => ({ method: 'POST', path, handler });
    this.routes = [
      get(/^\/$/, (_q, res, url) => this.sendPage(res, url)),
      get(/^\/static\/([A-Za-z0-9.-]+)$/, (req, res, _u, m) => this.sendStatic(req, res, m[1]!)),
      get(/^\/healthz$/, (_q, res) => this.health(res)),
      get(/^\/api\/openapi\.json$/, (_q, res) => sendJson(res, 200, openApiDocument(this.version))),
      get(/^\/api\/status$/, (_q, res) => sendJson(res, 200, clusterStatus(this.running(), this.version))),
      get(/^\/api\/workers$/, (_q, res) => sendJson(res, 200, { workers: this.running().view.workers() })),
      get(/^\/api\/decisions$/, (_q, res, url) => this.decisions(res, url)),
      get(/^\/api\/decisions\/stream$/, (req, res, url) => this.openStream(req, res, url)),
      get(/^\/api\/decisions\/(\d+|last)$/, (_q, res, _u, m) => this.explain(res, m[1]!)),
      get(/^\/api\/series$/, (_q, res, url) => this.seriesSince(res, url)),
      get(/^\/api\/logs$/, (_q, res, url) => this.logs(res, url)),
      get(/^\/metrics$/, (_q, res) => this.sendMetrics(res)),
      post(/^\/api\/scale$/, (req, res) => this.scale(req, res)),
      post(/^\/api\/adapt$/, (req, res) => this.adapt(req, res)),
      post(/^\/api\/shutdown$/, (req, res) => this.shutdown(req, res)),
    ];
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  /**
   * Binds `host:port`. A taken port falls back to any free one (logged at warn), as Dask's
   * dashboard does, so two ebbtides on one machine both get a page.
   *
   * @throws EbbtideError `CONFIG_INVALID` when the address cannot be bound (not this machine's,
   *   or a privileged port).
   */
  static async listen(options: DashboardServerOptions): Promise<DashboardServer> {
    const server = createServer();
    const bind = (port: number) =>
      new Promise<void>((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) => {
          server.off('listening', onListening);
          reject(e);
        };
        const onListening = () => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, options.host);
      });
    let taken = false;
    try {
      await bind(options.port);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && options.port !== 0) {
        taken = true;
        await bind(0).catch((e2: unknown) => {
          throw cannotBind(options, e2);
        });
      } else {
        throw cannotBind(options, e);
      }
    }
    const s = new DashboardServer(server, options, taken);
    if (taken) s.logger.warn({ event: 'dashboard.port-taken', port: options.port, using: s.port }, `port ${options.port} is in use; the dashboard uses ${s.port} instead`);
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://host:port` (no trailing slash); the page is at `/`. */
  get url(): string {
    return dashboardUrl(this.options.host, this.port);
  }

  /** Starts serving `auto`: its history streams to connected pages, its metrics are collected. */
  attach(auto: Autoscaler): void {
    if (this.auto) throw new Error('DashboardServer.attach: already attached');
    this.auto = auto;
    this.metrics = new DashboardMetrics(auto);
    this.sub = auto.decisions$.subscribe({
      next: (r) => this.series.push(r),
      complete: () => (this.stopped = true),
    });
    this.sub.add(
      auto.history.entries$.subscribe({
        next: (e) => this.stream.offer(e),
        complete: () => this.stream.end(),
      }),
    );
  }

  /** Connected event-stream clients (the pages watching). */
  get streamClients(): number {
    return this.stream.size;
  }

  /** Ends every stream and stops listening. */
  async close(): Promise<void> {
    this.sub?.unsubscribe();
    this.stream.end();
    this.stream.close();
    this.metrics?.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private running(): Autoscaler {
    if (!this.auto) throw new HttpError(503, 'UNAVAILABLE', 'ebbtide is starting');
    return this.auto;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, new HttpError(400, 'INPUT_INVALID', 'bad request URL'));
      return;
    }
    try {
      authorize(req, url, this.options.token);
      const candidates = this.routes.filter((r) => r.path.test(url.pathname));
      if (!candidates.length) throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname} (see /api/openapi.json)`);
      const route = candidates.find((r) => r.method === req.method || (req.method === 'HEAD' && r.method === 'GET'));
      if (!route) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`, { allow: candidates.map((r) => r.method).join(', ') });
      await route.handler(req, res, url, route.path.exec(url.pathname)!);
    } catch (e) {
      const err =
        e instanceof HttpError
          ? e
          : isEbbtideError(e) && e.code === 'INPUT_INVALID'
            ? new HttpError(400, e.code, e.message)
            : new HttpError(500, isEbbtideError(e) ? e.code : 'INTERNAL', describeError(e));
      if (err.status >= 500) this.logger.warn({ event: 'dashboard.error', path: url.pathname, error: err.message }, 'dashboard request failed');
      if (res.headersSent) res.destroy();
      else sendError(res, err);
    }
  }

  private sendAsset(res: ServerResponse, a: Asset, headers: Record<string, string> = {}): void {
    res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.length, etag: a.etag, 'cache-control': 'no-cache', ...headers });
    res.end(a.body);
  }

  /**
   * The page. Opened with `?access_token=` (a browser cannot set a header on navigation), its
   * asset links carry the token too, so they pass the token check like every other request.
   */
  private sendPage(res: ServerResponse, url: URL): void {
    const token = url.searchParams.get('access_token');
    if (!this.options.token || !token) {
      this.sendAsset(res, this.assets.page, PAGE_HEADERS);
      return;
    }
    const q = `?access_token=${encodeURIComponent(token)}`;
    const html = this.assets.page.body.toString('utf8').replace(/((?:src|href)="static\/[^"?]+)"/g, `$1${q}"`);
    const body = Buffer.from(html);
    res.writeHead(200, { 'content-type': this.assets.page.type, 'content-length': body.length, 'cache-control': 'no-store', ...PAGE_HEADERS });
    res.end(body);
  }

  private sendStatic(req: IncomingMessage, res: ServerResponse, name: string): void {
    const a = this.assets.files.get(name);
    if (!a) throw new HttpError(404, 'NOT_FOUND', `no asset ${name}`);
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, { etag: a.etag });
      res.end();
      return;
    }
    this.sendAsset(res, a, { 'x-content-type-options': 'nosniff' });
  }

  private health(res: ServerResponse): void {
    if (!this.auto || this.stopped) {
      sendJson(res, 503, { status: this.auto ? 'stopped' : 'starting' });
      return;
    }
    sendJson(res, 200, { status: 'ok', lastTick: this.auto.history.last()?.tick ?? 0, connected: this.auto.store.connected });
  }

  private decisions(res: ServerResponse, url: URL): void {
    const auto = this.running();
    const since = wholeParam(url, 'since', 0) ?? 0;
    sendJson(res, 200, { decisions: auto.history.since(since), last: auto.history.last()?.tick ?? 0 });
  }

  private openStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const auto = this.running();
    const header = req.headers['last-event-id'];
    const fromHeader = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    const since = fromHeader ?? wholeParam(url, 'since', 0);
    this.stream.open(res, since === undefined ? [] : auto.history.since(since));
  }

  private explain(res: ServerResponse, which: string): void {
    const auto = this.running();
    const entry = which === 'last' ? auto.history.last() : auto.history.find(Number(which));
    if (!entry) {
      throw new HttpError(404, 'NOT_FOUND', which === 'last' ? 'no decision yet' : `no decision holds tick ${which} (kept: the last ${auto.history.capacity} entries)`);
    }
    sendJson(res, 200, { entry, explanation: explainDecision(entry) });
  }

  private seriesSince(res: ServerResponse, url: URL): void {
    this.running();
    const v = url.searchParams.get('since');
    const since = v === null || v === '' ? -Infinity : Number(v);
    if (Number.isNaN(since)) throw new HttpError(400, 'INPUT_INVALID', `since: expected a number, got ${JSON.stringify(v)}`);
    sendJson(res, 200, this.series.since(since));
  }

  private async logs(res: ServerResponse, url: URL): Promise<void> {
    const lines = wholeParam(url, 'lines', 1) ?? DEFAULT_LINES;
    const worker = url.searchParams.get('worker');
    if (!worker) {
      sendJson(res, 200, { lines: this.options.recentLog?.lines(lines) ?? [] });
      return;
    }
    const auto = this.running();
    const known = auto.view.workers().some((w) => w.name === worker) || auto.view.gone().some((g) => g.name === worker);
    if (!known) throw new HttpError(404, 'NOT_FOUND', `no worker named ${JSON.stringify(worker)} (see /api/workers)`);
    if (typeof auto.backend.logs !== 'function') {
      throw new HttpError(501, 'NOT_IMPLEMENTED', `backend ${auto.kernel.config.backend.type} keeps no worker output`);
    }
    const text = await auto.backend.logs(worker, lines);
    const out = text.split('\n');
    if (out.at(-1) === '') out.pop();
    sendJson(res, 200, { worker, lines: out });
  }

  private async sendMetrics(res: ServerResponse): Promise<void> {
    this.running();
    const { text, contentType } = await this.metrics!.render();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(text);
  }

  private async scale(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const auto = this.liveForControl();
    const n = (body as { n?: unknown } | null)?.n;
    if (typeof n !== 'number') throw new HttpError(400, 'INPUT_INVALID', `n: expected a whole number >= 0, got ${JSON.stringify(n ?? null)}`);
    sendJson(res, 200, auto.adaptive.scale(n));
  }

  private async adapt(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJson(req)) as Record<string, unknown> | null;
    const auto = this.liveForControl();
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'INPUT_INVALID', 'expected an object such as {"minimum": 0, "maximum": 4}');
    const bound = (name: string, v: unknown, inf: boolean): number | undefined => {
      if (v === undefined) return undefined;
      if (inf && (v === null || v === 'inf')) return Infinity;
      if (typeof v !== 'number') throw new HttpError(400, 'INPUT_INVALID', `${name}: expected a whole number >= 0${inf ? ' or "inf"' : ''}, got ${JSON.stringify(v)}`);
      return v;
    };
    // Seconds, or a duration as the config writes it ("500ms", "2s"), as Dask's adapt(interval="500ms") takes.
    const seconds = (name: string, v: unknown): number | undefined => {
      if (v === undefined) return undefined;
      const s = parseDuration(v);
      if (s === undefined || s <= 0) throw new HttpError(400, 'INPUT_INVALID', `${name}: expected a duration > 0 (seconds, or such as "500ms", "2s"), got ${JSON.stringify(v)}`);
      return s;
    };
    const bounds: AdaptBounds = {};
    const minimum = bound('minimum', body.minimum, false);
    const maximum = bound('maximum', body.maximum, true);
    const waitCount = bound('waitCount', body.waitCount, false);
    const interval = seconds('interval', body.interval);
    const targetDuration = seconds('targetDuration', body.targetDuration);
    if (minimum !== undefined) bounds.minimum = minimum;
    if (maximum !== undefined) bounds.maximum = maximum;
    if (waitCount !== undefined) bounds.waitCount = waitCount;
    if (interval !== undefined) bounds.interval = interval;
    if (targetDuration !== undefined) bounds.targetDuration = targetDuration;
    sendJson(res, 200, auto.adaptive.adapt(bounds));
  }

  /**
   * Asks the owner to shut down as on SIGTERM (`shutdown.workers` decides what happens to the
   * workers); answers at once, before the workers are retired. The server stops answering once
   * ebbtide has stopped; `/healthz` says `stopped` meanwhile, and the decision stream ends.
   */
  private async shutdown(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await readJson(req);
    const auto = this.running();
    if (!this.options.onShutdown) throw new HttpError(501, 'NOT_IMPLEMENTED', 'this ebbtide cannot be shut down through the API (only `ebbtide up` can; stop `ebbtide demo` with Ctrl-C)');
    const workers = auto.kernel.config.shutdown.workers;
    if (!this.shutdownAsked) {
      this.shutdownAsked = true;
      this.logger.info({ event: 'dashboard.shutdown', workers }, 'shutdown requested through the API');
      this.options.onShutdown('POST /api/shutdown');
    }
    sendJson(res, 202, { status: 'shutting-down', workers });
  }

  private liveForControl(): Autoscaler {
    const auto = this.running();
    if (this.stopped || auto.adaptive.state === 'stopped') throw new HttpError(503, 'UNAVAILABLE', 'ebbtide is shutting down');
    return auto;
  }
}

function cannotBind(options: DashboardServerOptions, e: unknown): EbbtideError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
      ? `${options.host} is not an address of this machine`
      : code === 'EACCES'
        ? `port ${options.port} needs privileges`
        : describeError(e);
  return new EbbtideError('CONFIG_INVALID', `dashboard: cannot listen on ${options.host}:${options.port}: ${why}`, {
    key: code === 'EACCES' ? 'dashboard.port' : 'dashboard.host',
    hint: 'pick another dashboard.host / dashboard.port, or dashboard.enabled false',
    cause: e,
  });
}
