import {
  type ConnectionEvent,
  EbbtideError,
  LOGGER,
  type Logger,
  PLUGIN_OPTIONS,
  RX_SCHEDULER,
  type RetireResult,
  type SchedulerAdapter,
  type SchedulerEvent,
  type SchedulerSnapshot,
  type SnapshotEvent,
  backoffMs,
  describeError,
  isEbbtideError,
} from '@ebbtide/core';
import {
  EmptyError,
  type Observable,
  type SchedulerLike,
  Subject,
  type Subscription,
  concat,
  concatMap,
  defer,
  from,
  ignoreElements,
  lastValueFrom,
  repeat,
  retry,
  takeUntil,
  throwError,
  timer,
} from 'rxjs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { inject, injectable } from 'tsyringe';
import { type ClusterMarker, liveHolder, markerKeys, parseMarker } from './claim/clusterMarker.js';
import type { DaskSchedulerOptions } from './config.js';
import { PollBackoff } from './poll/PollBackoff.js';
import { SnapshotBuilder } from './poll/SnapshotBuilder.js';
import { readPoll } from './poll/readPoll.js';
import { retireWorkers } from './retire/retireWorkers.js';
import { DaskComm } from './wire/DaskComm.js';

/** True for errors worth another connection attempt (the comm marks them `data.retryable`). */
function isRetryable(e: unknown): boolean {
  return !isEbbtideError(e) || e.data?.['retryable'] !== false;
}

/**
 * `scheduler.type: dask` — a real Dask scheduler (distributed 2022.12 to 2026.8, tested against both), read over
 * Dask's own TCP protocol.
 *
 * Every poll interval it reads the state Dask's adaptive heuristic needs (see `readPoll`: only
 * what may have changed) and emits a `snapshot` event. While the state stays unchanged the wait
 * between polls doubles, up to `maxPollInterval`; a poll that sees a change, a retirement or a
 * reconnect brings it back to the poll interval at once. When a poll fails or the connection drops it emits
 * `connection {connected: false}`, reconnects with capped exponential backoff (1 s doubling to
 * 30 s), and once back emits a fresh `snapshot` rebuilt from the scheduler and then
 * `connection {connected: true}`. `events$` never errors; a late subscriber first receives the
 * latest snapshot and connection state.
 *
 * `retire(names)` calls `retire_workers(names, close_workers=True, remove=True)` on a separate
 * connection, so polls continue while Dask copies data.
 *
 * @example
 * ```yaml
 * scheduler: { type: dask, address: tcp://dask-scheduler:8786, dask: { pollInterval: 2s } }
 * ```
 */
@injectable()
export class DaskSchedulerAdapter implements SchedulerAdapter {
  readonly events$: Observable<SchedulerEvent>;
  readonly address: string;

  private readonly subject = new Subject<SchedulerEvent>();
  private readonly closing$ = new Subject<void>();
  private readonly builder: SnapshotBuilder;
  private readonly backoff: PollBackoff;
  private lastSnapshot?: SnapshotEvent;
  private lastConnection?: ConnectionEvent;
  private comm?: DaskComm;
  private pollLoop?: Subscription;
  private reconnecting?: Subscription;
  private starting?: Promise<void>;
  private closed = false;
  /** Set once `claim` succeeded: the cluster whose mark each poll renews. */
  private claimed?: { cluster: string; owner: string; renewedAt: number };

  constructor(
    @inject(PLUGIN_OPTIONS) private readonly options: DaskSchedulerOptions,
    @inject(LOGGER) private readonly log: Logger,
    @inject(RX_SCHEDULER) private readonly rx: SchedulerLike,
  ) {
    this.address = options.address;
    this.builder = new SnapshotBuilder(options.defaultTaskDurations);
    this.backoff = new PollBackoff(options.pollIntervalMs, options.maxPollIntervalMs);
    this.events$ = defer(() => {
      const replay: SchedulerEvent[] = [];
      if (this.lastSnapshot) replay.push(this.lastSnapshot);
      if (this.lastConnection) replay.push(this.lastConnection);
      return concat(from(replay), this.subject);
    });
  }

  /**
   * Connects and reads the first state; resolves once a snapshot has been emitted. Retries with
   * backoff (each retry logged at warn with the address) up to `maxStartAttempts` (0 = forever).
   *
   * @throws EbbtideError `SCHEDULER_UNREACHABLE` after the last attempt, or at once
   *   `SCHEDULER_PROTOCOL` when the address answers but is not a compatible Dask scheduler.
   */
  start(): Promise<void> {
    // Concurrent calls share one attempt; after a failure a new call tries again.
    this.starting ??= this.firstConnect().catch((e: unknown) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  /**
   * Retires workers by name; one outcome per name: `retired` (unique data copied, worker closed),
   * `kept` (its data has nowhere to go) or `unknown` (the scheduler has no such worker).
   */
  async retire(names: string[]): Promise<RetireResult> {
    if (names.length === 0) return { outcomes: [] };
    // Workers are about to leave: watch closely from now on.
    this.backoff.reset();
    this.builder.state.identity.invalidate();
    const comm = await this.connect();
    try {
      const result = await retireWorkers(comm, names, {
        retireTimeoutMs: this.options.retireTimeoutMs,
        stimulusId: `ebbtide-retire-${Math.round(this.rx.now())}`,
      });
      this.log.info({ event: 'scheduler.retire', address: this.address, outcomes: result.outcomes }, 'retired workers');
      return result;
    } finally {
      comm.close();
    }
  }

  /**
   * Marks the scheduler as driven by this ebbtide for `cluster` (in Dask's scheduler metadata),
   * so a second ebbtide of the same cluster on this scheduler refuses to start. The mark is
   * renewed with the polls and expires `claimTtl` after the last renewal.
   *
   * @throws EbbtideError `CLUSTER_LOCKED` naming the live holder.
   */
  async claim(cluster: string): Promise<void> {
    const owner = this.claimed?.owner ?? randomUUID();
    const comm = await this.connect();
    try {
      const keys = markerKeys(cluster);
      const read = async () => parseMarker(await comm.call('get_metadata', { keys, default: null }, { allowNil: true }));
      // A live holder renews its mark every third of its ttl. One that stops renewing has died
      // (on another host, so its pid cannot be checked): wait for its mark to expire rather than
      // refuse — a standby replica that just won the backend's lease takes over this way.
      let holder = liveHolder(await read(), owner, Date.now());
      const first = holder;
      while (holder) {
        // On this host its pid was found alive; elsewhere, a renewal shows it is.
        if (holder.host === hostname() || holder.renewedAt !== first!.renewedAt) throw this.locked(cluster, holder);
        const wait = Math.min(holder.renewedAt + holder.ttlMs - Date.now() + 100, holder.ttlMs / 3 + 100);
        this.log.warn(
          { event: 'scheduler.claim-wait', address: this.address, cluster, holder: `${holder.pid}@${holder.host}`, waitMs: Math.max(0, wait) },
          'the cluster is marked as driven by another ebbtide; waiting to see whether it is still alive',
        );
        await lastValueFrom(timer(Math.max(0, wait), this.rx));
        holder = liveHolder(await read(), owner, Date.now());
      }
      await comm.call('set_metadata', { keys, value: this.marker(owner) }, { allowNil: true });
      // Two ebbtides claiming at once both write: the one whose mark stayed wins.
      const back = parseMarker(await comm.call('get_metadata', { keys, default: null }, { allowNil: true }));
      if (back && back.owner !== owner) throw this.locked(cluster, back);
      this.claimed = { cluster, owner, renewedAt: Date.now() };
      this.log.info({ event: 'scheduler.claimed', address: this.address, cluster }, 'claimed the cluster on the scheduler');
    } finally {
      comm.close();
    }
  }

  private marker(owner: string): ClusterMarker {
    return { owner, pid: process.pid, host: hostname(), renewedAt: Date.now(), ttlMs: this.options.claimTtlMs };
  }

  private locked(cluster: string, holder: ClusterMarker): EbbtideError {
    const ago = Math.max(0, Math.round((Date.now() - holder.renewedAt) / 1000));
    return new EbbtideError(
      'CLUSTER_LOCKED',
      `cluster "${cluster}" on the Dask scheduler ${this.address} is already driven by ebbtide pid ${holder.pid} on ${holder.host} (last seen ${ago}s ago; its mark expires ${Math.round(holder.ttlMs / 1000)}s after that)`,
      { key: 'cluster.name', hint: 'stop that ebbtide first, or give this one another cluster.name' },
    );
  }

  /** Renews the mark on the polling connection (after a scheduler restart this also restores it). */
  private async renewClaim(comm: DaskComm): Promise<void> {
    const c = this.claimed;
    if (!c || Date.now() - c.renewedAt < this.options.claimTtlMs / 3) return;
    await comm.call('set_metadata', { keys: markerKeys(c.cluster), value: this.marker(c.owner) }, { allowNil: true });
    c.renewedAt = Date.now();
  }

  /** Stops polling and reconnecting, releases the cluster's mark, closes the connection and completes `events$`. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.claimed && this.comm) {
      await this.comm.call('set_metadata', { keys: markerKeys(this.claimed.cluster), value: null }, { allowNil: true }).catch(() => undefined);
    }
    this.claimed = undefined;
    this.closed = true;
    this.closing$.next();
    this.pollLoop?.unsubscribe();
    this.reconnecting?.unsubscribe();
    this.comm?.close();
    this.comm = undefined;
    this.subject.complete();
  }

  private async firstConnect(): Promise<void> {
    const max = this.options.maxStartAttempts;
    const attempt$ = defer(() => this.openAndPoll()).pipe(
      retry({
        ...(max > 0 ? { count: max - 1 } : {}),
        delay: (err: unknown, n: number) => {
          if (!isRetryable(err)) return throwError(() => err);
          return this.retryAfter(err, n, backoffMs(n));
        },
      }),
      takeUntil(this.closing$),
    );
    let opened: { comm: DaskComm; snapshot: SchedulerSnapshot };
    try {
      opened = await lastValueFrom(attempt$);
    } catch (e) {
      if (e instanceof EmptyError) {
        throw new EbbtideError('SCHEDULER_UNREACHABLE', `Dask scheduler at ${this.address}: closed before the first connection`, { key: 'scheduler.address' });
      }
      if (isEbbtideError(e) && e.code === 'SCHEDULER_UNREACHABLE' && max > 0) {
        throw new EbbtideError('SCHEDULER_UNREACHABLE', `${e.message} (gave up after ${max} attempt${max === 1 ? '' : 's'})`, {
          key: 'scheduler.address',
          ...(e.hint ? { hint: e.hint } : {}),
          cause: e,
          data: { ...e.data, attempts: max },
        });
      }
      throw e;
    }
    this.adopt(opened.comm, opened.snapshot);
  }

  /** One connection attempt: connect, handshake, read a first snapshot. */
  private async openAndPoll(): Promise<{ comm: DaskComm; snapshot: SchedulerSnapshot }> {
    const comm = await this.connect();
    try {
      // Possibly another scheduler process: nothing read from the last one is reused.
      this.builder.state.invalidate();
      this.backoff.reset();
      const snapshot = await this.poll(comm);
      if (this.closed) throw new EbbtideError('SCHEDULER_UNREACHABLE', `Dask scheduler at ${this.address}: adapter closed`, { data: { retryable: false } });
      return { comm, snapshot };
    } catch (e) {
      comm.close();
      throw e;
    }
  }

  private connect(): Promise<DaskComm> {
    return DaskComm.connect(this.address, { connectTimeoutMs: this.options.timeoutMs, callTimeoutMs: this.options.timeoutMs, rx: this.rx });
  }

  private async poll(comm: DaskComm): Promise<SchedulerSnapshot> {
    await this.renewClaim(comm);
    const raw = await readPoll(comm, this.builder.state, () => this.rx.now() / 1000);
    const snapshot = this.builder.build(raw, this.rx.now() / 1000);
    this.backoff.polled(raw.changed);
    if (raw.restrictionsRefused) {
      this.log.warn(
        { event: 'scheduler.restrictions-unavailable', reason: raw.restrictionsRefused },
        "the Dask scheduler refused get_cluster_state: tasks' resource restrictions are not read on this connection (all work counts as plain)",
      );
    }
    this.log.debug(
      { event: 'scheduler.poll', workers: raw.workers.length, tasks: raw.tasks, statusQueried: raw.statusQueried, identity: raw.identityRead, restrictions: raw.restrictionsRead, changed: raw.changed, nextMs: this.backoff.nextMs },
      'polled',
    );
    return snapshot;
  }

  /** Takes over a connected comm: emit its first snapshot, then poll it until it fails. */
  private adopt(comm: DaskComm, snapshot: SchedulerSnapshot): void {
    this.comm = comm;
    this.reconnecting = undefined;
    this.emit({ type: 'snapshot', snapshot });
    this.emit({ type: 'connection', connected: true });
    this.log.info({ event: 'scheduler.connected', address: this.address, workers: snapshot.workers.length }, 'connected to the Dask scheduler');
    // One poll at a time, each `backoff.nextMs` after the previous one ended, on the injected clock.
    this.pollLoop = defer(() => timer(this.backoff.nextMs, this.rx))
      .pipe(
        concatMap(() => from(this.poll(comm))),
        repeat(),
      )
      .subscribe({
        next: (s) => this.emit({ type: 'snapshot', snapshot: s }),
        error: (e: unknown) => this.lose(comm, describeError(e)),
      });
    void comm.closed.then((reason) => this.lose(comm, reason));
  }

  /** The connection failed: say so, drop it and start reconnecting (once per comm). */
  private lose(comm: DaskComm, reason: string): void {
    if (this.closed || this.comm !== comm) return;
    this.comm = undefined;
    this.pollLoop?.unsubscribe();
    comm.close();
    this.emit({ type: 'connection', connected: false, reason });
    this.log.warn({ event: 'scheduler.disconnected', address: this.address, reason }, 'lost the Dask scheduler; reconnecting');
    const first = backoffMs(1);
    this.reconnecting = concat(
      timer(first, this.rx).pipe(ignoreElements()),
      defer(() => this.openAndPoll()).pipe(retry({ delay: (err: unknown, n: number) => this.retryAfter(err, n, backoffMs(n + 1)) })),
    ).subscribe({
      next: ({ comm: fresh, snapshot }) => {
        if (this.closed) fresh.close();
        else this.adopt(fresh, snapshot);
      },
    });
  }

  private retryAfter(err: unknown, attempt: number, delayMs: number): Observable<number> {
    this.log.warn(
      { event: 'scheduler.connect.retry', address: this.address, attempt, delayMs, error: describeError(err) },
      'cannot reach the Dask scheduler; retrying',
    );
    return timer(delayMs, this.rx);
  }

  private emit(e: SchedulerEvent): void {
    if (this.closed) return;
    if (e.type === 'snapshot') this.lastSnapshot = e;
    if (e.type === 'connection') this.lastConnection = e;
    this.subject.next(e);
  }
}
