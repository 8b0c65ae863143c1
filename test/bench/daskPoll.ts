import { schedulerCpuBenches } from '@ebbtide/scheduler-dask/bench';
import { type Figure, figure } from './report.js';

/**
 * What ebbtide's polling costs a real Dask scheduler process (its own CPU time per poll, before
 * and after the incremental poll), next to Dask's own Adaptive tick on the same scheduler, at 10,
 * 100 and 1,000 workers. See adapters/scheduler-dask/bench/schedulerCpu.ts for the method.
 */
export async function daskPollBenches(log: (f: Figure) => void): Promise<void> {
  await schedulerCpuBenches((f) => log(figure(f.name, f.value, f.unit, f.baseline, f.note)));
}
