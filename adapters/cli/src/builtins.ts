import type { EbbtidePlugin } from '@ebbtide/core';
import kubernetesBackendPlugin from '@ebbtide/backend-kubernetes';
import localBackendPlugin from '@ebbtide/backend-local';
import mesosBackendPlugin from '@ebbtide/backend-mesos';
import yarnBackendPlugin from '@ebbtide/backend-yarn';
import daskPlugin from '@ebbtide/plugin-dask';
import daskSchedulerPlugin from '@ebbtide/scheduler-dask';
import embeddedPlugin from '@ebbtide/scheduler-embedded';
import simulatorPlugin from '@ebbtide/simulator';

/** Plugins the `ebbtide` command registers before any configured one. */
export function builtinPlugins(): EbbtidePlugin[] {
  return [daskPlugin, embeddedPlugin, daskSchedulerPlugin, localBackendPlugin, kubernetesBackendPlugin, mesosBackendPlugin, yarnBackendPlugin, simulatorPlugin] as EbbtidePlugin[];
}
