import daskPlugin from '@ebbtide/plugin-dask';
import { type TraceProfile, generateTrace, simulate, smallestStaticWithin } from '@ebbtide/simulator';
import { type Figure, figure } from './report.js';

/**
 * Policy quality on the two generated one-day profiles: worker-seconds and p95 wait of Dask's
 * default policy against a static cluster of the adaptive run's maximum, and against the
 * smallest static cluster whose p95 wait is within 1.2x of that. Also the wall time of one
 * simulated day.
 */
export async function policyBenches(log: (f: Figure) => void): Promise<void> {
  for (const profile of ['interactive', 'batch'] as TraceProfile[]) {
    const trace = generateTrace(profile, { seed: 1 });
    const options = { trace, plugins: [daskPlugin], sources: { flags: {} } };
    const t0 = performance.now();
    const adaptive = await simulate(options);
    const wall = (performance.now() - t0) / 1000;
    log(figure(`simulator: one ${profile} day (${trace.tasks.length} tasks, ${adaptive.decisions} ticks)`, wall, 's wall'));
    const maximum = adaptive.settings.maximum === 'inf' ? Math.max(1, adaptive.metrics.peakWorkers) : adaptive.settings.maximum;
    const s = await smallestStaticWithin(options, { maximum, factor: 1.2 });
    const a = adaptive.metrics;
    log(figure(`policy ${profile}: Dask default worker-seconds vs static ${s.reference.size} (its peak)`, a.workerSeconds, 'worker-s', { value: s.reference.result.metrics.workerSeconds }));
    log(figure(`policy ${profile}: Dask default worker-seconds vs smallest static within 1.2x p95 (${s.size})`, a.workerSeconds, 'worker-s', { value: s.result.metrics.workerSeconds }));
    log(figure(`policy ${profile}: Dask default p95 wait vs static ${s.reference.size}`, a.p95Wait, 's', { value: s.reference.result.metrics.p95Wait }));
    log(figure(`policy ${profile}: Dask default p95 wait vs static ${s.size}`, a.p95Wait, 's', { value: s.result.metrics.p95Wait }));
    log(figure(`policy ${profile}: results lost`, a.resultsLost, 'results'));
  }
}
