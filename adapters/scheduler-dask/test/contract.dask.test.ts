import { MemoryLogger } from '@ebbtide/core';
import { describeSchedulerAdapter } from '@ebbtide/core/testing';
import { asyncScheduler } from 'rxjs';
import { DaskSchedulerAdapter } from '../src/index.js';
import { adapterOptions } from './helpers/adapterOptions.js';
import { ProcessRegistry, type SchedulerProcess, startScheduler, startWorker } from './helpers/daskProcesses.js';
import { DASK_VERSIONS } from './helpers/daskVersions.js';

// The SchedulerAdapter contract against a real Dask scheduler, with real dask workers, per release.
for (const dask of DASK_VERSIONS) {
  describe(`a real Dask ${dask.label} scheduler`, () => {
    const registry = new ProcessRegistry(dask);
    let scheduler: SchedulerProcess | undefined;
    after(() => registry.killAll());
    describeSchedulerAdapter(`DaskSchedulerAdapter (Dask ${dask.label})`, () => ({
      create: async () => {
        scheduler ??= await startScheduler(registry);
        return new DaskSchedulerAdapter(adapterOptions(scheduler.address), new MemoryLogger(), asyncScheduler);
      },
      connectWorker: async (_adapter, name) => {
        const w = await startWorker(registry, scheduler!.address, name);
        return async () => {
          w.kill();
          await w.exited;
        };
      },
      waitMs: 60_000,
    }));
  });
}
