import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type SchedulerLike, timer } from 'rxjs';
import { EbbtideError, describeError } from '@ebbtide/core';

export const SCHEDULER_PATH = '/api/v1/scheduler';
const MAX_REDIRECTS = 5;

export interface MesosHttpOptions {
  /** Base URL of any master, e.g. http://m1:5050. */
  master: string;
  principal?: string;
  secret?: string;
  requestTimeoutMs: number;
  rx: SchedulerLike;
}

export interface CallResult {
  status: number;
  body: string;
}

/** An open subscription: the 200 response whose body is the RecordIO event stream. */
export interface OpenStream {
  streamId: string;
  response: IncomingMessage;
  close(): void;
}

/** `BACKEND_API` for an HTTP answer, classified once: 5xx, 429 and 503 are worth retrying. */
export function apiError(what: string, status: number, body: string, url: string): EbbtideError {
  const retryable = status >= 500 || status === 429 || status === 307;
  return new EbbtideError('BACKEND_API', `Mesos master ${url}: ${what} answered HTTP ${status}${body ? `: ${body.trim().slice(0, 500)}` : ''}`, {
    data: { status, body: body.slice(0, 2000), retryable },
  });
}

function networkError(what: string, url: string, e: unknown): EbbtideError {
  return new EbbtideError('BACKEND_API', `cannot reach the Mesos master at ${url} (${what}): ${describeError(e)}`, {
    cause: e,
    data: { retryable: true },
    hint: 'check backend.mesos.master and that the master is up',
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * HTTP to a Mesos master with Node's http/https: scheduler calls, the subscription, and the
 * operator endpoints. A 307 (a master that does not lead) is followed to its `Location`, which
 * may lack a scheme (`//host:5050/...`); the leader found is remembered for the next requests.
 */
export class MesosHttp {
  /** Origin of the master that led last time we asked (starts as the configured one). */
  leader: string;

  constructor(private readonly opts: MesosHttpOptions) {
    this.leader = new URL(opts.master).origin;
  }

  /** Back to the configured master, e.g. when the remembered leader stopped answering. */
  resetLeader(): void {
    this.leader = new URL(this.opts.master).origin;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.opts.principal) h.Authorization = `Basic ${Buffer.from(`${this.opts.principal}:${this.opts.secret ?? ''}`).toString('base64')}`;
    return h;
  }

  private send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number | undefined, untilHeaders = false): { req: ClientRequest; res: Promise<IncomingMessage> } {
    const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = fn(url, { method, headers: body !== undefined ? { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } : headers });
    const res = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    if (timeoutMs !== undefined) {
      const t = timer(timeoutMs, this.opts.rx).subscribe(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      void res.then(
        // A stream is bounded only until its headers arrive; a call until its body has.
        (r) => (untilHeaders ? t.unsubscribe() : r.once('end', () => t.unsubscribe()).once('close', () => t.unsubscribe())),
        () => t.unsubscribe(),
      );
    }
    req.end(body);
    return { req, res };
  }

  /** Follows 307s; resolves with the final response and the request that produced it. */
  private async follow(path: string, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number | undefined, what: string, untilHeaders = false) {
    let url = new URL(path, this.leader);
    for (let hop = 0; ; hop++) {
      let sent;
      let res: IncomingMessage;
      try {
        sent = this.send(url, method, this.headers(headers), body, timeoutMs, untilHeaders);
        res = await sent.res;
      } catch (e) {
        throw networkError(what, url.origin, e);
      }
      if (res.statusCode === 307 && res.headers.location && hop < MAX_REDIRECTS) {
        res.resume();
        const next = new URL(res.headers.location, url);
        this.leader = next.origin;
        url = new URL(path, this.leader);
        continue;
      }
      return { req: sent.req, res, url };
    }
  }

  /** POSTs a scheduler call (not SUBSCRIBE). 202 is success; anything else is returned for the caller to judge. */
  async call(call: object, streamId: string | undefined, what: string): Promise<CallResult> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (streamId) headers['Mesos-Stream-Id'] = streamId;
    const { res } = await this.follow(SCHEDULER_PATH, 'POST', headers, JSON.stringify(call), this.opts.requestTimeoutMs, what);
    let text: string;
    try {
      text = await readAll(res);
    } catch (e) {
      throw networkError(what, this.leader, e);
    }
    return { status: res.statusCode ?? 0, body: text };
  }

  /**
   * Opens the subscription stream. Resolves on 200 with its `Mesos-Stream-Id`.
   * @throws EbbtideError `BACKEND_API` for any other answer or a network failure.
   */
  async subscribe(call: object): Promise<OpenStream> {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    // Bounded until the headers: the stream itself is open-ended; heartbeats tell whether it lives.
    const { req, res, url } = await this.follow(SCHEDULER_PATH, 'POST', headers, JSON.stringify(call), this.opts.requestTimeoutMs, 'SUBSCRIBE', true);
    if (res.statusCode !== 200) {
      const text = await readAll(res).catch(() => '');
      throw apiError('SUBSCRIBE', res.statusCode ?? 0, text, url.origin);
    }
    const streamId = res.headers['mesos-stream-id'];
    if (typeof streamId !== 'string' || !streamId) {
      req.destroy();
      throw new EbbtideError('BACKEND_API', `Mesos master ${url.origin}: SUBSCRIBE answered 200 without a Mesos-Stream-Id header`, { data: { retryable: true } });
    }
    return { streamId, response: res, close: () => req.destroy() };
  }

  /** GET of an operator endpoint (e.g. /master/tasks) on the leader. */
  async get(path: string): Promise<CallResult> {
    const { res } = await this.follow(path, 'GET', { Accept: 'application/json' }, undefined, this.opts.requestTimeoutMs, `GET ${path.split('?')[0]}`);
    return { status: res.statusCode ?? 0, body: await readAll(res) };
  }
}
