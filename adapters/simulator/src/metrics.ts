/** One point of a simulation's time series (one tick, or the maximum over a bucket of ticks). */
export interface SeriesPoint {
  /** Virtual seconds of the (first) tick. */
  t: number;
  /** Tasks queued + unrunnable + processing. */
  demand: number;
  /** Heuristic target before clamping. */
  target: number;
  /** Target after [minimum, maximum]. */
  safeTarget: number;
  /** Workers connected to the scheduler. */
  workers: number;
  /** With pools: workers connected per pool. */
  pools?: Record<string, number>;
}

/** Rounds to the millisecond, so results print without float noise. */
export function roundMs(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Mean, nearest-rank 95th percentile and maximum; zeros for no values. */
export function waitStats(values: readonly number[]): { mean: number; p95: number; max: number } {
  if (values.length === 0) return { mean: 0, p95: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    mean: sum / sorted.length,
    p95: sorted[Math.ceil(0.95 * sorted.length) - 1]!,
    max: sorted[sorted.length - 1]!,
  };
}

/**
 * Collects one point per tick in flat arrays and, at the end, reduces them to at most
 * `maxPoints`: consecutive ticks are grouped in equal buckets and each bucket keeps its first `t`
 * and the maximum of every other field, so peaks survive downsampling.
 */
export class SeriesRecorder {
  private readonly cols: number[][] = [[], [], [], [], []];
  /** Per pool, one value per point (absent until a point names pools). */
  private readonly poolCols = new Map<string, number[]>();

  constructor(private readonly maxPoints = 2000) {}

  get length(): number {
    return this.cols[0]!.length;
  }

  add(p: SeriesPoint): void {
    const [t, d, g, s, w] = this.cols as [number[], number[], number[], number[], number[]];
    t.push(p.t);
    d.push(p.demand);
    g.push(p.target);
    s.push(p.safeTarget);
    w.push(p.workers);
    if (p.pools) {
      for (const [name, v] of Object.entries(p.pools)) {
        let col = this.poolCols.get(name);
        if (!col) this.poolCols.set(name, (col = new Array<number>(t.length - 1).fill(0)));
        col.push(v);
      }
    }
    for (const col of this.poolCols.values()) if (col.length < t.length) col.push(0);
  }

  points(): SeriesPoint[] {
    const [t, d, g, s, w] = this.cols as [number[], number[], number[], number[], number[]];
    const n = t.length;
    const size = Math.max(1, Math.ceil(n / Math.max(1, this.maxPoints)));
    const out: SeriesPoint[] = [];
    for (let i = 0; i < n; i += size) {
      const end = Math.min(n, i + size);
      const p: SeriesPoint = { t: t[i]!, demand: d[i]!, target: g[i]!, safeTarget: s[i]!, workers: w[i]! };
      if (this.poolCols.size) p.pools = Object.fromEntries([...this.poolCols].map(([name, col]) => [name, col[i]!]));
      for (let j = i + 1; j < end; j++) {
        p.demand = Math.max(p.demand, d[j]!);
        p.target = Math.max(p.target, g[j]!);
        p.safeTarget = Math.max(p.safeTarget, s[j]!);
        p.workers = Math.max(p.workers, w[j]!);
        if (p.pools) for (const [name, col] of this.poolCols) p.pools[name] = Math.max(p.pools[name]!, col[j]!);
      }
      out.push(p);
    }
    return out;
  }
}
