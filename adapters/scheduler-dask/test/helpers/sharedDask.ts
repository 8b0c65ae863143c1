import { ProcessRegistry, PythonClient, type SchedulerProcess, type WorkerProcess, startScheduler, startWorker } from './daskProcesses.js';
import type { DaskVersion } from './daskVersions.js';

/** One real Dask cluster per release, shared by the test files that only read from it or add to it. */
export interface SharedDask {
  registry: ProcessRegistry;
  scheduler: SchedulerProcess;
  /** `w1` and `w2`, one thread each, no nanny. */
  workers: WorkerProcess[];
  client: PythonClient;
}

const shared = new Map<string, { cluster: Promise<SharedDask>; registry: ProcessRegistry }>();

/** The shared cluster of `dask`, started on first use (scheduler, two workers, a Python client). */
export function sharedDask(dask: DaskVersion): Promise<SharedDask> {
  let entry = shared.get(dask.label);
  if (!entry) {
    const registry = new ProcessRegistry(dask);
    const cluster = (async () => {
      const scheduler = await startScheduler(registry);
      const [workers, client] = await Promise.all([
        Promise.all([startWorker(registry, scheduler.address, 'w1'), startWorker(registry, scheduler.address, 'w2')]),
        PythonClient.start(registry, scheduler.address),
      ]);
      return { registry, scheduler, workers, client };
    })();
    shared.set(dask.label, (entry = { cluster, registry }));
  }
  return entry.cluster;
}

/** Kills every shared cluster that was started (root `afterAll` hook). */
export async function stopSharedDask(): Promise<void> {
  const entries = [...shared.values()];
  shared.clear();
  // Whatever was spawned is in the registry, even when starting failed half-way.
  await Promise.all(entries.map((e) => e.registry.killAll()));
}
