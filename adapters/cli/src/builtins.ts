import type { EbbtidePlugin } from '@ebbtide/core';
import kubernetesBackendPlugin from '@ebbtide/backend-kubernetes';
import localBackendPlugin from '@ebbtide/backend-local';
import mesosBackendPlugin from '@ebbtide/backend-mesos';
import dashboardPlugin from '@ebbtide/dashboard';
import yarnBackendPlugin from '@ebbtide/backend-yarn';
import allocationPlugin from '@ebbtide/plugin-allocation';
import daskPlugin from '@ebbtide/plugin-dask';
import daskSchedulerPlugin from '@ebbtide/scheduler-dask';
import embeddedPlugin from '@ebbtide/scheduler-embedded';
import simulatorPlugin from '@ebbtide/simulator';

/** Plugins the `ebbtide` command registers before any configured one. */
export function builtinPlugins(): EbbtidePlugin[] {
  return [daskPlugin, allocationPlugin, embeddedPlugin, daskSchedulerPlugin, localBackendPlugin, kubernetesBackendPlugin, mesosBackendPlugin, yarnBackendPlugin, simulatorPlugin, dashboardPlugin] as EbbtidePlugin[];
}

/**
 * The `ebbtide` command's defaults for the roles (the core names none): Dask's rules on the
 * embedded scheduler with local worker processes. The lowest source: a file, env or flag wins.
 */
export function builtinDefaults(): Record<string, unknown> {
  return {
    heuristic: 'dask',
    workersToClose: 'dask',
    workerKey: 'none',
    allocation: 'cheapest-first',
    scheduler: { type: 'embedded' },
    backend: { type: 'local' },
  };
}
