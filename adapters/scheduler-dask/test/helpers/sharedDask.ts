import { ProcessRegistry, PythonClient, type SchedulerProcess, type WorkerProcess, startScheduler, startWorker } from './daskProcesses.js';

/** One real Dask cluster shared by the test files that only read from it or add to it. */
export interface SharedDask {
  registry: ProcessRegistry;
  scheduler: SchedulerProcess;
  /** `w1` and `w2`, one thread each, no nanny. */
  workers: WorkerProcess[];
  client: PythonClient;
}

let shared: Promise<SharedDask> | undefined;
let registry: ProcessRegistry | undefined;

/** The shared cluster, started on first use (scheduler, two workers, a Python client). */
export function sharedDask(): Promise<SharedDask> {
  shared ??= (async () => {
    registry = new ProcessRegistry();
    const scheduler = await startScheduler(registry);
    const [workers, client] = await Promise.all([
      Promise.all([startWorker(registry, scheduler.address, 'w1'), startWorker(registry, scheduler.address, 'w2')]),
      PythonClient.start(registry, scheduler.address),
    ]);
    return { registry, scheduler, workers, client };
  })();
  return shared;
}

/** Kills the shared cluster if it was started (root `afterAll` hook). */
export async function stopSharedDask(): Promise<void> {
  const r = registry;
  shared = undefined;
  registry = undefined;
  // Whatever was spawned is in the registry, even when starting failed half-way.
  await r?.killAll();
}
