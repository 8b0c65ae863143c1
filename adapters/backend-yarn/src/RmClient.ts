import { type SchedulerLike, timer } from 'rxjs';
import { EbbtideError, type Logger, describeError } from '@ebbtide/core';

export interface RmResponse {
  status: number;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
  /** The RM that answered. */
  rm: string;
}

export interface RmRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string>;
}

/** Replies that mean "not the active ResourceManager": try the next one. */
function isStandby(res: Response, text: string): boolean {
  return res.status === 503 || (res.status >= 300 && /standby/i.test(text));
}

/**
 * HTTP to a YARN ResourceManager (its REST API and the Services API it serves), for an HA pair or
 * more: requests go to the RM that answered last; one that is unreachable, times out or says it
 * is standby is skipped for the next in the list, once per request. Every request carries
 * `user.name` (pseudo authentication of non-secure clusters). Timeouts run on the injected
 * scheduler.
 */
export class RmClient {
  private active = 0;

  constructor(
    private readonly rms: readonly string[],
    private readonly user: string,
    private readonly timeoutSeconds: number,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger,
  ) {
    if (rms.length === 0) {
      throw new EbbtideError('CONFIG_INVALID', 'backend.yarn.resourceManagers: no ResourceManager configured; set it to the RM web address, e.g. [http://rm-host:8088]', {
        key: 'backend.yarn.resourceManagers',
      });
    }
  }

  /** The RM requests go to now. */
  get current(): string {
    return this.rms[this.active]!;
  }

  async request(path: string, req: RmRequest = {}): Promise<RmResponse> {
    const failures: string[] = [];
    for (let tried = 0; tried < this.rms.length; tried++) {
      const index = (this.active + tried) % this.rms.length;
      const rm = this.rms[index]!;
      const url = new URL(rm + path);
      url.searchParams.set('user.name', this.user);
      for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
      const abort = new AbortController();
      const deadline = timer(this.timeoutSeconds * 1000, this.rx).subscribe(() => abort.abort());
      try {
        const res = await fetch(url, {
          method: req.method ?? 'GET',
          headers: { accept: 'application/json', ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: abort.signal,
        });
        const text = await res.text();
        if (isStandby(res, text)) {
          failures.push(`${rm}: ${res.status} (standby or unavailable)`);
          continue;
        }
        if (index !== this.active) {
          this.logger.warn({ event: 'yarn.rm-failover', from: this.current, to: rm }, 'ResourceManager failover: using the next one in backend.yarn.resourceManagers');
          this.active = index;
        }
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        return { status: res.status, json, text, rm };
      } catch (e) {
        failures.push(`${rm}: ${abort.signal.aborted ? `no answer within ${this.timeoutSeconds}s` : describeError(e)}`);
      } finally {
        deadline.unsubscribe();
      }
    }
    throw new EbbtideError('BACKEND_API', `no YARN ResourceManager answered ${req.method ?? 'GET'} ${path}: ${failures.join('; ')}`, {
      data: { retryable: true },
      hint: 'check backend.yarn.resourceManagers and that the ResourceManager is running',
    });
  }
}

/** The `diagnostics` of a Services API reply (ServiceStatus), or its raw text. */
export function diagnosticsOf(res: RmResponse): string {
  const d = (res.json as { diagnostics?: unknown } | undefined)?.diagnostics;
  return typeof d === 'string' && d ? d : res.text.slice(0, 500);
}

/** An unexpected Services API reply as an error: 5xx and 429 retryable, 4xx not. */
export function apiError(what: string, res: RmResponse): EbbtideError {
  const retryable = res.status >= 500 || res.status === 429;
  return new EbbtideError('BACKEND_API', `YARN ${what} failed at ${res.rm}: HTTP ${res.status}: ${diagnosticsOf(res)}`, {
    data: { status: res.status, retryable },
  });
}
