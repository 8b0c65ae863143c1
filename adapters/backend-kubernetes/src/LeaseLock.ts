import { EbbtideError, type Logger, describeError } from '@ebbtide/core';
import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { type SchedulerLike, type Subscription, timer } from 'rxjs';
import { classify } from './apiErrors.js';
import type { KubeApi } from './KubeApi.js';

export interface LeaseTimes {
  /** Milliseconds. */
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
}

interface Observed {
  holder: string;
  renewTime: string;
  transitions: number;
  /** When this record was first seen, on the injected clock. */
  at: number;
}

/**
 * A `coordination.k8s.io` Lease used as the cluster's lock, with client-go's leader-election
 * rules: a lease is free when its holder is empty or when its record (holder, renewTime,
 * transitions) has not changed for `leaseDuration` as timed on *our* clock (no trust in the other
 * holder's clock); the holder renews every `retryPeriod` and gives up after failing to renew for
 * `renewDeadline`. Writes use the lease's resourceVersion, so two candidates never both win.
 */
export class LeaseLock {
  private observed?: Observed;
  private renewing?: Subscription;
  private lastRenew = 0;
  private held = false;
  private cancelled = false;
  private waiter?: Subscription;
  private wake?: () => void;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    readonly name: string,
    readonly identity: string,
    private readonly t: LeaseTimes,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger,
    /** Called once when a held lease is lost (not renewed in time, or taken). */
    private readonly onLost: (why: string) => void,
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  /** Who held the lease at the last look (empty when free or unknown). */
  get holder(): string {
    return this.observed?.holder ?? '';
  }

  private leaseBody(prev: V1Lease | undefined, now: V1MicroTime): V1Lease {
    const spec = prev?.spec ?? {};
    const takeover = spec.holderIdentity !== this.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(prev?.metadata?.resourceVersion ? { resourceVersion: prev.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.t.leaseDuration / 1000),
        acquireTime: takeover ? now : (spec.acquireTime ?? now),
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover && spec.holderIdentity ? 1 : 0),
      },
    };
  }

  /**
   * One attempt (client-go's tryAcquireOrRenew): true when we hold the lease afterwards.
   * `seenLive` is set when another holder renewed while we watched.
   */
  private async tryAcquireOrRenew(): Promise<{ ok: boolean; seenLive: boolean }> {
    // MicroTime: the apiserver wants six fractional digits, which a plain Date does not print.
    const now = new V1MicroTime();
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.once('read lease', (o) => this.api.coordination.readNamespacedLease({ name: this.name, namespace: this.namespace }, o as never));
    } catch (e) {
      if (classify(e).kind !== 'notFound') throw e;
    }
    if (!lease) {
      try {
        await this.api.once('create lease', (o) => this.api.coordination.createNamespacedLease({ namespace: this.namespace, body: this.leaseBody(undefined, now) }, o as never));
        return { ok: true, seenLive: false };
      } catch (e) {
        if (classify(e).kind === 'conflict') return { ok: false, seenLive: true };
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = { holder, renewTime: String(spec.renewTime ?? ''), transitions: spec.leaseTransitions ?? 0 };
    let seenLive = false;
    const o = this.observed;
    if (!o || o.holder !== record.holder || o.renewTime !== record.renewTime || o.transitions !== record.transitions) {
      seenLive = o !== undefined && record.holder !== '' && record.holder !== this.identity;
      this.observed = { ...record, at: this.rx.now() };
    }
    if (holder && holder !== this.identity && this.rx.now() - this.observed!.at < this.t.leaseDuration) return { ok: false, seenLive };
    try {
      await this.api.once('update lease', (op) => this.api.coordination.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: this.leaseBody(lease, now) }, op as never));
      return { ok: true, seenLive: false };
    } catch (e) {
      if (classify(e).kind === 'conflict') return { ok: false, seenLive: true };
      throw e;
    }
  }

  /**
   * Takes the lease. `wait: false` (a plain lock): rejects with CLUSTER_LOCKED once the holder is
   * seen renewing, takes it over when its record stays unchanged for leaseDuration.
   * `wait: true` (leader election): waits until it is ours, however long.
   */
  async acquire(wait: boolean): Promise<void> {
    let announced = false;
    while (!this.cancelled) {
      let r: { ok: boolean; seenLive: boolean };
      try {
        r = await this.tryAcquireOrRenew();
      } catch (e) {
        const c = classify(e);
        if (c.kind !== 'retry') throw e;
        this.logger.warn({ event: 'lease.retry', lease: this.name, error: describeError(e) }, `lease ${this.name}: ${describeError(e)}; retrying`);
        r = { ok: false, seenLive: false };
      }
      if (r.ok) {
        this.held = true;
        this.lastRenew = this.rx.now();
        this.logger.info({ event: 'lease.acquired', lease: this.name, identity: this.identity }, `holding lease ${this.namespace}/${this.name}`);
        this.scheduleRenew();
        return;
      }
      if (r.seenLive && !wait) {
        throw new EbbtideError(
          'CLUSTER_LOCKED',
          `another ebbtide holds this cluster: lease ${this.namespace}/${this.name} is held and renewed by ${this.holder || 'another holder'}`,
          { hint: 'stop the other ebbtide, or set backend.kubernetes.leaderElection.enabled to run replicas where one acts and the others wait', data: { holder: this.holder, lease: this.name } },
        );
      }
      if (!announced && this.holder) {
        announced = true;
        this.logger.info(
          { event: 'lease.waiting', lease: this.name, holder: this.holder },
          wait ? `waiting for leadership: lease ${this.name} is held by ${this.holder}` : `lease ${this.name} is held by ${this.holder}; taking it over unless it is renewed within the lease duration`,
        );
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.waiter = timer(this.t.retryPeriod, this.rx).subscribe(() => resolve());
      });
    }
    throw new EbbtideError('CLUSTER_LOCKED', `stopped while waiting for lease ${this.name}`);
  }

  private scheduleRenew(): void {
    this.renewing = timer(this.t.retryPeriod, this.rx).subscribe(() => void this.renew());
  }

  private async renew(): Promise<void> {
    if (!this.held || this.cancelled) return;
    let ok = false;
    let why = '';
    try {
      ok = (await this.tryAcquireOrRenew()).ok;
      if (!ok) why = `taken by ${this.holder}`;
    } catch (e) {
      why = describeError(e);
    }
    if (!this.held || this.cancelled) return;
    if (ok) {
      this.lastRenew = this.rx.now();
    } else if (this.observed?.holder && this.observed.holder !== this.identity) {
      return this.lose(`lease ${this.name} was taken by ${this.observed.holder}`);
    } else if (this.rx.now() - this.lastRenew >= this.t.renewDeadline) {
      return this.lose(`could not renew lease ${this.name} for ${this.t.renewDeadline} ms: ${why}`);
    }
    this.scheduleRenew();
  }

  private lose(why: string): void {
    this.held = false;
    this.renewing?.unsubscribe();
    this.onLost(why);
  }

  /** Stops renewing and waiting, without touching the lease (what a killed process leaves). */
  abandon(): void {
    this.cancelled = true;
    this.held = false;
    this.renewing?.unsubscribe();
    this.waiter?.unsubscribe();
    this.wake?.();
  }

  /** Gives the lease up (holder cleared, as client-go's ReleaseOnCancel) so the next one need not wait. */
  async release(): Promise<void> {
    const wasHeld = this.held;
    this.abandon();
    if (!wasHeld) return;
    try {
      const lease = await this.api.once('read lease', (o) => this.api.coordination.readNamespacedLease({ name: this.name, namespace: this.namespace }, o as never));
      if (lease.spec?.holderIdentity !== this.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() };
      await this.api.once('update lease', (o) => this.api.coordination.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: lease }, o as never));
      this.logger.info({ event: 'lease.released', lease: this.name }, `released lease ${this.name}`);
    } catch (e) {
      this.logger.warn({ event: 'lease.release-failed', lease: this.name, error: describeError(e) }, `could not release lease ${this.name}; the next holder waits for it to expire`);
    }
  }
}
