import { request } from 'node:https';
import { EbbtideError, type Logger } from '@ebbtide/core';
import { CoordinationV1Api, CoreV1Api, type KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { type SchedulerLike, firstValueFrom, timer } from 'rxjs';
import { type ClassifiedError, classify } from './apiErrors.js';

/** client-node's per-call options (its ConfigurationOptions), as far as we use them. */
export type CallOptions = { middleware: unknown[]; middlewareMergeStrategy: 'append' };

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 250, capMs: 30_000 };

/** Full-jitter exponential backoff (AWS style): uniform in [0, min(cap, base * 2^(n-1))], at least base/2. */
export function backoffWithJitter(attempt: number, p: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(p.capMs, p.baseMs * 2 ** (attempt - 1));
  return Math.max(p.baseMs / 2, Math.round(random() * ceiling));
}

/**
 * A client-node middleware that edits the request. Per-call middleware must return client-node's
 * own minimal Observable (an object with toPromise/pipe), not a Promise.
 */
function middleware<C>(edit: (ctx: C) => void): unknown {
  const of = <T>(v: T) => {
    const p = Promise.resolve(v);
    return { toPromise: () => p, pipe: (f: (x: T) => unknown) => of(p.then(f)) };
  };
  return {
    pre: (ctx: C) => {
      edit(ctx);
      return of(ctx);
    },
    post: (res: unknown) => of(res),
  };
}

/** The error a call that kept failing ends with (a BACKEND_API or BACKEND_CAPACITY EbbtideError). */
export function apiError(what: string, c: ClassifiedError, cause: unknown): EbbtideError {
  const status = c.status ? ` (HTTP ${c.status}${c.reason ? ` ${c.reason}` : ''})` : '';
  if (c.kind === 'capacity') return new EbbtideError('BACKEND_CAPACITY', `${what}: ${c.message}${status}`, { cause, data: { status: c.status } });
  const hint = c.kind === 'forbidden' ? 'the service account needs the RBAC rules in docs/backends/kubernetes.md (pods, events, leases)' : undefined;
  return new EbbtideError('BACKEND_API', `${what}: ${c.message}${status}`, { cause, data: { status: c.status, retryable: c.kind === 'retry' }, ...(hint ? { hint } : {}) });
}

/**
 * The API clients plus the two things every call needs: a timeout (client-node has none) and
 * retries with backoff for 429/5xx/network errors, honouring Retry-After. All waiting goes
 * through the injected RxJS scheduler.
 */
export class KubeApi {
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly objects: KubernetesObjectApi;
  /** Calls made (attempts, retries included), by what they were for. */
  readonly calls = new Map<string, number>();

  constructor(
    readonly kc: KubeConfig,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  /** Options that give one call an abort signal, plus extra middleware (e.g. a patch content type). */
  private options(signal: AbortSignal, extra?: { middleware?: unknown[] }): CallOptions {
    const timeout = middleware((ctx: { setSignal(s: AbortSignal): void }) => ctx.setSignal(signal));
    return { middleware: [...(extra?.middleware ?? []), timeout], middlewareMergeStrategy: 'append' };
  }

  /** One attempt with the request timeout. */
  async once<T>(what: string, fn: (options: CallOptions) => Promise<T>, extra?: { middleware?: unknown[] }): Promise<T> {
    this.calls.set(what, (this.calls.get(what) ?? 0) + 1);
    const ac = new AbortController();
    const t = timer(this.timeoutMs, this.rx).subscribe(() => ac.abort(new Error(`request timed out after ${this.timeoutMs} ms`)));
    try {
      return await fn(this.options(ac.signal, extra));
    } finally {
      t.unsubscribe();
    }
  }

  /**
   * Retries `fn` while it fails with a retryable error, up to the policy's attempts; any other
   * error (and the last retryable one) is thrown as it came (classify it to decide).
   */
  async withRetry<T>(what: string, fn: (options: CallOptions) => Promise<T>, o: { extra?: { middleware?: unknown[] }; stopped?: () => boolean } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(what, fn, o.extra);
      } catch (e) {
        const c = classify(e);
        if (c.kind !== 'retry' || attempt >= this.retry.attempts || o.stopped?.()) throw e;
        const delayMs = c.retryAfterMs ?? backoffWithJitter(attempt, this.retry);
        this.logger.warn(
          { event: 'api.retry', what, status: c.status, reason: c.reason, attempt, delayMs, retryAfter: c.retryAfterMs !== undefined },
          `${what} failed (${c.status ? `HTTP ${c.status}` : c.message}); retrying in ${delayMs} ms`,
        );
        await this.sleep(delayMs);
      }
    }
  }

  /**
   * A request with the body sent exactly as given. client-node's typed calls serialize through
   * the model classes, which silently drop unknown fields; the pod template's dry run must see
   * what the user wrote so strict field validation can name a typo. Throws like client-node
   * (an error with `code`, `body`, `headers`) on a non-2xx reply.
   */
  async raw(what: string, method: string, path: string, body: unknown): Promise<unknown> {
    this.calls.set(what, (this.calls.get(what) ?? 0) + 1);
    const server = this.kc.getCurrentCluster()!.server;
    const url = new URL(path, server.endsWith('/') ? server : `${server}/`);
    const opts: import('node:https').RequestOptions = { method, headers: { 'content-type': 'application/json', accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(url, opts, (res) => {
        let data = '';
        res.setEncoding('utf8').on('data', (d: string) => (data += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(data ? JSON.parse(data) : undefined);
          reject(Object.assign(new Error(`HTTP ${status}`), { code: status, body: data, headers: res.headers }));
        });
      });
      const t = timer(this.timeoutMs, this.rx).subscribe(() => req.destroy(Object.assign(new Error(`request timed out after ${this.timeoutMs} ms`), { name: 'AbortError' })));
      req.on('close', () => t.unsubscribe());
      req.on('error', reject);
      req.end(text);
    });
  }

  /** Middleware that sets a request header (e.g. a patch's Content-Type). */
  static header(name: string, value: string): { middleware: unknown[] } {
    return { middleware: [middleware((ctx: { setHeaderParam(k: string, v: string): void }) => ctx.setHeaderParam(name, value))] };
  }

  sleep(ms: number): Promise<void> {
    return firstValueFrom(timer(ms, this.rx)).then(() => undefined);
  }
}
