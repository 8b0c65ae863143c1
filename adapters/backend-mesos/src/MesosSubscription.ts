import { type SchedulerLike, type Subscription, interval, timer } from 'rxjs';
import { EbbtideError, type Logger, describeError, isEbbtideError } from '@ebbtide/core';
import { type CallResult, type MesosHttp, type OpenStream, apiError } from './MesosHttp.js';
import type { MesosEvent } from './mesosTypes.js';
import { RecordIOParser } from './RecordIOParser.js';

/** Missed heartbeats after which the stream is presumed dead (the Mesos docs suggest 5). */
export const MISSED_HEARTBEATS = 5;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_CAP_MS = 15_000;

/** Reconnect delay after `n` failures in a row: 1 s doubling, capped at 15 s. Pure. */
export function reconnectDelayMs(n: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, n));
}

export interface SubscriptionHandlers {
  /** The FrameworkInfo to subscribe with (including `id` once known). */
  frameworkInfo(frameworkId: string | undefined): Record<string, unknown>;
  /** A SUBSCRIBED event arrived: the calls of this stream may now be made. */
  subscribed(frameworkId: string): void;
  /** Every other event of the current stream, in order. */
  event(e: MesosEvent): void;
}

/**
 * The framework's one subscription: SUBSCRIBE (with the framework id once known, so a
 * re-subscription keeps the framework and its tasks), the RecordIO event stream, a watchdog that
 * drops the stream after `MISSED_HEARTBEATS` heartbeat intervals of silence, and reconnection
 * with capped exponential backoff (reset by a SUBSCRIBED) after a drop, an error or a refusal.
 * Calls go out with the current `Mesos-Stream-Id`; a 403 (the master does not know us as
 * subscribed) forces a re-subscription. All timers run on the injected RxJS scheduler.
 */
export class MesosSubscription {
  frameworkId: string | undefined;
  private stream?: OpenStream;
  private streamId?: string;
  private generation = 0;
  private failures = 0;
  private lastEvent = 0;
  /** The master's heartbeat interval (15 s until a SUBSCRIBED says otherwise). */
  private heartbeatMs = 15_000;
  private watchdog?: Subscription;
  private reconnect?: Subscription;
  private stopped = false;
  private connecting = false;
  private lastError?: unknown;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly http: MesosHttp,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger,
    private readonly handlers: SubscriptionHandlers,
  ) {}

  get subscribed(): boolean {
    return this.streamId !== undefined;
  }

  /** The error of the last failed attempt, for messages. */
  get lastFailure(): unknown {
    return this.lastError;
  }

  /** Subscribes now (no-op while connected or connecting). */
  start(): void {
    this.stopped = false;
    if (this.stream || this.connecting) return;
    this.reconnect?.unsubscribe();
    this.reconnect = undefined;
    void this.connect();
  }

  /** Resolves at the next SUBSCRIBED (at once if subscribed); rejects after `ms` with the last failure. */
  whenSubscribed(ms: number): Promise<void> {
    if (this.subscribed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = timer(ms, this.rx).subscribe(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        const why = this.lastError ? describeError(this.lastError) : 'no SUBSCRIBED event arrived';
        reject(
          isEbbtideError(this.lastError)
            ? this.lastError
            : new EbbtideError('BACKEND_API', `could not subscribe to the Mesos master ${this.http.leader} within ${ms / 1000}s: ${why}`, { data: { retryable: true } }),
        );
      });
      const done = () => {
        t.unsubscribe();
        resolve();
      };
      this.waiters.push(done);
    });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.connecting = true;
    const gen = ++this.generation;
    const call: Record<string, unknown> = { type: 'SUBSCRIBE', subscribe: { framework_info: this.handlers.frameworkInfo(this.frameworkId) } };
    if (this.frameworkId) call.framework_id = { value: this.frameworkId };
    let open: OpenStream;
    try {
      open = await this.http.subscribe(call);
    } catch (e) {
      this.connecting = false;
      if (gen !== this.generation || this.stopped) return;
      this.lastError = e;
      this.logger.warn({ event: 'mesos.subscribe-failed', master: this.http.leader, error: describeError(e), attempt: this.failures + 1 }, 'cannot subscribe to the Mesos master; retrying');
      // The leader we were sent to may be gone: ask the configured master again next time.
      this.http.resetLeader();
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (gen !== this.generation || this.stopped) {
      open.close();
      return;
    }
    this.stream = open;
    this.lastEvent = this.rx.now();
    // Watched from the start: a stream that never delivers SUBSCRIBED is as dead as a silent one.
    this.armWatchdog();
    const parser = new RecordIOParser();
    const streamId = open.streamId;
    open.response.on('data', (chunk: Buffer) => {
      if (gen !== this.generation) return;
      let records: string[];
      try {
        records = parser.push(chunk);
      } catch (e) {
        this.drop(describeError(e));
        return;
      }
      for (const r of records) {
        if (gen !== this.generation) return;
        let event: MesosEvent;
        try {
          event = JSON.parse(r) as MesosEvent;
        } catch (e) {
          this.drop(`an event is not JSON: ${describeError(e)}`);
          return;
        }
        this.onEvent(event, streamId);
      }
    });
    const lost = (why: string) => {
      if (gen === this.generation) this.drop(why);
    };
    open.response.once('end', () => lost('the master ended the subscription stream'));
    open.response.once('error', (e) => lost(`the subscription stream failed: ${describeError(e)}`));
    open.response.once('close', () => lost('the subscription stream closed'));
  }

  private onEvent(e: MesosEvent, streamId: string): void {
    this.lastEvent = this.rx.now();
    if (e.type === 'SUBSCRIBED' && e.subscribed) {
      this.frameworkId = e.subscribed.framework_id.value;
      this.streamId = streamId;
      this.failures = 0;
      this.lastError = undefined;
      this.heartbeatMs = Math.max(0.05, e.subscribed.heartbeat_interval_seconds ?? 15) * 1000;
      this.armWatchdog();
      const hbMs = this.heartbeatMs;
      this.logger.info({ event: 'mesos.subscribed', frameworkId: this.frameworkId, master: this.http.leader, heartbeatSeconds: hbMs / 1000 }, 'subscribed to the Mesos master');
      this.handlers.subscribed(this.frameworkId);
      for (const w of this.waiters.splice(0)) w();
      return;
    }
    if (e.type === 'HEARTBEAT') return;
    this.handlers.event(e);
  }

  private armWatchdog(): void {
    const hbMs = this.heartbeatMs;
    this.watchdog?.unsubscribe();
    this.watchdog = interval(hbMs, this.rx).subscribe(() => {
      const silent = this.rx.now() - this.lastEvent;
      if (silent > MISSED_HEARTBEATS * hbMs) {
        this.logger.warn({ event: 'mesos.heartbeats-missed', silentMs: silent, heartbeatMs: hbMs }, 'no event or heartbeat from the Mesos master; resubscribing');
        this.drop(`no heartbeat for ${Math.round(silent)} ms`);
      }
    });
  }

  /** Closes the current stream and subscribes again after the backoff. */
  drop(why: string): void {
    const hadStream = this.stream !== undefined;
    this.closeStream();
    if (this.stopped) return;
    if (hadStream) this.logger.warn({ event: 'mesos.disconnected', reason: why }, 'lost the Mesos subscription; resubscribing');
    this.scheduleReconnect();
  }

  private closeStream(): void {
    this.generation++;
    this.connecting = false;
    this.watchdog?.unsubscribe();
    this.watchdog = undefined;
    this.streamId = undefined;
    const s = this.stream;
    this.stream = undefined;
    s?.close();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnect) return;
    const ms = reconnectDelayMs(this.failures++);
    this.reconnect = timer(ms, this.rx).subscribe(() => {
      this.reconnect = undefined;
      void this.connect();
    });
  }

  /** Closes the stream for good (no TEARDOWN: the master keeps the framework for failover_timeout). */
  stop(): void {
    this.stopped = true;
    this.reconnect?.unsubscribe();
    this.reconnect = undefined;
    this.closeStream();
  }

  /**
   * Sends a call of the current subscription. Resolves with the answer when it is 202.
   * @throws EbbtideError `BACKEND_API` when not subscribed, for a network failure or any other status
   *   (403 also starts a re-subscription).
   */
  async call(type: string, body: Record<string, unknown> = {}): Promise<CallResult> {
    if (!this.frameworkId || !this.streamId) {
      throw new EbbtideError('BACKEND_API', `cannot send ${type} to the Mesos master: not subscribed`, { data: { retryable: true, notSent: true } });
    }
    const streamId = this.streamId;
    const r = await this.http.call({ framework_id: { value: this.frameworkId }, type, ...body }, streamId, type);
    if (r.status === 202) return r;
    if (r.status === 403 && this.streamId === streamId) this.drop(`${type} answered 403: ${r.body.trim()}`);
    throw apiError(type, r.status, r.body, this.http.leader);
  }
}
