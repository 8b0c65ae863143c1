import { EbbtideError } from '@ebbtide/core';
import { type SimulateOptions, type SimulationResult, simulate, staticCluster } from './simulate.js';

export interface SmallestStaticOptions {
  /** Allowed p95 wait, as a multiple of the reference's. Default 1.2. */
  factor?: number;
  /**
   * Size of the reference static cluster. Default: `adaptive.maximum` when finite, else the peak
   * worker count of the adaptive run of the same options (which is then run first).
   */
  maximum?: number;
}

export interface SmallestStaticResult {
  /** The smallest static size whose p95 wait is within `factor` x the reference's. */
  size: number;
  factor: number;
  /** The run at `size`. */
  result: SimulationResult;
  /** The static cluster of the maximum size. */
  reference: { size: number; result: SimulationResult };
  /** The adaptive run, when it was needed to find the maximum. */
  adaptive?: SimulationResult;
  /** Every size tried, in order, with its p95 wait. */
  tried: Array<{ size: number; p95Wait: number }>;
}

/**
 * The smallest static cluster that serves a trace almost as well as a static cluster of the
 * maximum size: binary search over sizes 1..maximum (from the pools' floors together, with pools) for the smallest whose p95 wait is at most
 * `factor` x the maximum-size cluster's (p95 wait shrinks as the cluster grows). The baseline an
 * adaptive run's worker-seconds are compared with.
 *
 * @throws EbbtideError `INPUT_INVALID` for a factor < 1 or a maximum below 1.
 */
export async function smallestStaticWithin(options: SimulateOptions, search: SmallestStaticOptions = {}): Promise<SmallestStaticResult> {
  const factor = search.factor ?? 1.2;
  if (!(factor >= 1)) throw new EbbtideError('INPUT_INVALID', `smallestStaticWithin: factor must be a number >= 1, got ${factor}`);
  let maximum = search.maximum;
  let adaptive: SimulationResult | undefined;
  if (maximum === undefined) {
    adaptive = await simulate(options);
    maximum = adaptive.settings.maximum === 'inf' ? adaptive.metrics.peakWorkers : adaptive.settings.maximum;
  }
  if (!Number.isInteger(maximum) || maximum < 1) {
    throw new EbbtideError('INPUT_INVALID', `smallestStaticWithin: the maximum size must be a whole number >= 1, got ${maximum}${adaptive ? ' (the adaptive run never had a worker)' : ''}`);
  }
  const tried: Array<{ size: number; p95Wait: number }> = [];
  const runs = new Map<number, SimulationResult>();
  const run = async (size: number) => {
    let r = runs.get(size);
    if (!r) {
      r = await staticCluster(options, size);
      runs.set(size, r);
      tried.push({ size, p95Wait: r.metrics.p95Wait });
    }
    return r;
  };
  const reference = await run(maximum);
  const allowed = factor * reference.metrics.p95Wait;
  // With pools, a static cluster is never smaller than the pools' floors together.
  let lo = Math.min(maximum, Math.max(1, (reference.settings.pools ?? []).reduce((n, p) => n + p.minimum, 0)));
  let hi = maximum;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await run(mid)).metrics.p95Wait <= allowed) hi = mid;
    else lo = mid + 1;
  }
  return {
    size: lo,
    factor,
    result: await run(lo),
    reference: { size: maximum, result: reference },
    ...(adaptive ? { adaptive } : {}),
    tried,
  };
}
