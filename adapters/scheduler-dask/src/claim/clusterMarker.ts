import { hostname } from 'node:os';

/**
 * The mark an ebbtide leaves in the Dask scheduler's metadata (`set_metadata`) while it drives
 * cluster `cluster`, renewed as it polls. A second ebbtide of the same cluster name reads it and
 * refuses to start; a mark that is no longer renewed (its ebbtide died) expires.
 */
export interface ClusterMarker {
  owner: string;
  pid: number;
  host: string;
  /** Epoch milliseconds of the last renewal. */
  renewedAt: number;
  /** Milliseconds after `renewedAt` when the mark counts as abandoned. */
  ttlMs: number;
}

/** Where the mark lives: `scheduler.get_metadata(["ebbtide", "clusters", name])`. */
export function markerKeys(cluster: string): string[] {
  return ['ebbtide', 'clusters', cluster];
}

/** A mark as read back; anything else (none, released, garbage) is `undefined`. */
export function parseMarker(v: unknown): ClusterMarker | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Partial<ClusterMarker>;
  if (typeof m.owner !== 'string' || typeof m.pid !== 'number' || typeof m.host !== 'string' || typeof m.renewedAt !== 'number' || typeof m.ttlMs !== 'number') {
    return undefined;
  }
  return m as ClusterMarker;
}

/** Whether the process `pid` exists on this machine. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who else holds the cluster, if anyone still does: a mark of another owner that is renewed
 * within its ttl, unless it comes from this host and its process is gone (a `kill -9`ed
 * ebbtide restarted on the same machine takes over at once).
 */
export function liveHolder(marker: ClusterMarker | undefined, me: string, now: number, alive: (pid: number) => boolean = pidAlive): ClusterMarker | undefined {
  if (!marker || marker.owner === me) return undefined;
  if (now - marker.renewedAt > marker.ttlMs) return undefined;
  if (marker.host === hostname() && !alive(marker.pid)) return undefined;
  return marker;
}
