import { heartbeatInterval } from './heartbeatInterval.js';

/** Dask's active memory manager runs every 2 s by default; replica drops it makes follow task activity by up to that. */
const AMM_INTERVAL_S = 2;
/** At rest, `identity` is still read at least this often (and at least every 10 heartbeat intervals). */
const REFRESH_S = 30;

/** What the cheap calls of one poll saw (`processing`, `ncores_running`, ...). */
export interface PollSignals {
  /** Seconds, on the adapter's clock. */
  now: number;
  /** Worker addresses (`processing`'s keys), in the scheduler's order. */
  addresses: readonly string[];
  /** Addresses of the workers whose status is `running` (`ncores_running`). */
  running: ReadonlySet<string>;
  /** Anything in the task layer moved since the previous poll (see `PollFingerprint`). */
  activity: boolean;
  /** Some task is processing now. */
  busy: boolean;
}

/**
 * Decides when a poll must read `identity`, the one call whose cost grows with the workers'
 * heartbeat metrics (14 ms of scheduler CPU at 1,000 workers, against under 1 ms for each other
 * call of a poll; see `bench/schedulerCpu.ts`).
 *
 * `identity` gives what no cheaper call does: each worker's name, host, threads, memory limit,
 * resources and status, and from its last heartbeat `managed_bytes` and `task_counts`. It is read:
 *
 * - on the first poll, and when a worker appears (a new address in `processing`) or a worker's
 *   status moves in or out of `running` (`ncores_running`): at once;
 * - while tasks are processing or the task layer moved, and until one heartbeat interval plus the
 *   active memory manager's 2 s after it last did: once per heartbeat interval of the cluster
 *   (Dask's `heartbeat_interval(n)`) — metrics arrive with heartbeats, so reading them more often
 *   re-reads mostly the same values;
 * - at rest, at least every max(30 s, 10 heartbeat intervals), for what no cheap call shows
 *   (`set_resources`, a `rebalance` by a client, a change between two non-running statuses).
 *
 * A removed worker needs no read: it is dropped from the last views.
 */
export class IdentityPolicy {
  private lastRead?: number;
  private known = new Set<string>();
  private running = new Set<string>();
  /** Until when metrics may still be changing (seconds). */
  private settleUntil = -Infinity;
  private forced = false;

  /** Makes the next poll read `identity` (a reconnect, or ebbtide's own retirement). */
  invalidate(): void {
    this.forced = true;
  }

  /** True when this poll must read `identity`. Records the signals either way. */
  mustRead(s: PollSignals): boolean {
    const hb = heartbeatInterval(s.addresses.length);
    if (s.activity || s.busy) this.settleUntil = Math.max(this.settleUntil, s.now + hb + AMM_INTERVAL_S);
    let read = this.forced || this.lastRead === undefined;
    if (!read) for (const a of s.addresses) if (!this.known.has(a)) read = true;
    if (!read && !sameSet(this.running, s.running)) read = true;
    const last = this.lastRead ?? -Infinity;
    if (!read && last < this.settleUntil && (s.now - last >= hb || s.now >= this.settleUntil)) read = true;
    if (!read && s.now - last >= Math.max(REFRESH_S, 10 * hb)) read = true;
    this.running = new Set(s.running);
    if (!read) this.known = new Set(s.addresses);
    return read;
  }

  /** `identity` was read at `now` and listed `addresses`. */
  read(now: number, addresses: Iterable<string>): void {
    this.lastRead = now;
    this.forced = false;
    this.known = new Set(addresses);
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
