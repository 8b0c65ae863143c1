import type { Autoscaler, ScalingMode } from '@ebbtide/core';

/** `GET /api/status`: the running cluster at a glance. Stable: the Python client reads it. */
export interface ClusterStatus {
  /** `EbbtideCluster(name, scheduler, workers=N, threads=T, memory=M)`, Dask's cluster repr. */
  repr: string;
  cluster: string;
  scheduler: { type: string; address: string | null; connected: boolean };
  /** One entry per pool; without pools, the one backend as pool `default`. */
  backends: Array<{ pool: string; type: string }>;
  /** Connected workers, their threads and memory (bytes; limit 0 = none). */
  workers: number;
  threads: number;
  memory: { used: number; limit: number };
  tasks: { queued: number; processing: number; unrunnable: number };
  /** Dask's three sets: names planned, accepted by the backend, connected to the scheduler (now, not as of the last tick). */
  plan: string[];
  requested: string[];
  observed: string[];
  /** Loop settings now: `adapt` changes the bounds, interval, waitCount and targetDuration (seconds). */
  adaptive: { interval: number; minimum: number; maximum: number; waitCount: number; targetDuration: number; historyLength: number };
  mode: ScalingMode;
  /** Manual mode: the count asked for with `POST /api/scale`. */
  manual: { n: number } | null;
  /** While the scheduler cannot be read: since when (clock seconds) and for how long. */
  blind: { since: number; seconds: number } | null;
  /** While the backend is out of capacity: starts are held until `until`. */
  capacityLimited: { until: number; reason: string; failures: number } | null;
  /** The newest decision's tick (0 before the first). */
  lastTick: number;
  /** Clock seconds now, and since start. */
  time: number;
  uptime: number;
  version: string;
}

/** Bytes as Dask's `format_bytes` writes them: `16.00 GiB`, `256.00 MiB`, `12 B`. */
export function formatBytes(n: number): string {
  const units: Array<[string, number]> = [
    ['PiB', 2 ** 50],
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['kiB', 2 ** 10],
  ];
  for (const [unit, size] of units) if (n >= size * 0.9) return `${(n / size).toFixed(2)} ${unit}`;
  return `${n} B`;
}

/** Dask's cluster repr: `EbbtideCluster(ebbtide, tcp://127.0.0.1:8786, workers=3, threads=6, memory=12.00 GiB)`. */
export function formatRepr(s: Pick<ClusterStatus, 'cluster' | 'scheduler' | 'workers' | 'threads' | 'memory'>): string {
  return `EbbtideCluster(${s.cluster}, ${s.scheduler.address ?? s.scheduler.type}, workers=${s.workers}, threads=${s.threads}, memory=${formatBytes(s.memory.limit)})`;
}

/** The status of a running autoscaler, read from its public surface. */
export function clusterStatus(auto: Autoscaler, version: string): ClusterStatus {
  const config = auto.kernel.config;
  const now = auto.kernel.rxScheduler.now() / 1000;
  const totals = auto.store.snapshot(now).totals!;
  const counts = auto.store.counts();
  const scaling = auto.adaptive.scaling;
  const blindSince = auto.store.connected ? undefined : (auto.adaptive.blind ?? now);
  const capacity = auto.cluster.capacityLimit;
  const base = {
    cluster: config.cluster.name,
    scheduler: { type: config.scheduler.type, address: auto.scheduler.address ?? (config.scheduler.address || null), connected: auto.store.connected },
    workers: counts.workers,
    threads: totals.nthreads,
    memory: { used: totals.nbytes, limit: totals.memoryLimit },
  };
  return {
    repr: formatRepr(base),
    ...base,
    backends: [{ pool: 'default', type: config.backend.type }],
    tasks: { queued: counts.queued, processing: counts.processing, unrunnable: counts.unrunnable },
    plan: [...auto.cluster.plan],
    requested: [...auto.cluster.requested],
    observed: auto.store.workerNames(),
    adaptive: {
      interval: auto.adaptive.interval,
      minimum: scaling.minimum,
      maximum: scaling.maximum,
      waitCount: auto.adaptive.waitCount,
      targetDuration: auto.adaptive.targetDuration ?? config.adaptive.targetDuration,
      historyLength: auto.history.capacity,
    },
    mode: scaling.mode,
    manual: scaling.mode === 'manual' ? { n: scaling.n! } : null,
    blind: blindSince === undefined ? null : { since: blindSince, seconds: Math.max(0, now - blindSince) },
    capacityLimited: capacity ? { until: capacity.until, reason: capacity.reason, failures: capacity.failures } : null,
    lastTick: auto.history.last()?.tick ?? 0,
    time: now,
    uptime: Math.max(0, now - auto.startedAt),
    version,
  };
}
