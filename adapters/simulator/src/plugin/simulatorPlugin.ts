import { definePlugin } from '@ebbtide/core';
import { type SimulatorOptions, simulatorOptions, simulatorSchema } from '../config.js';
import { StaticBaselineHeuristic } from './StaticBaselineHeuristic.js';

/**
 * The simulator as a plugin: contributes the `simulator.*` config section (so `-c` files and
 * `ebbtide config` know its keys) and registers heuristic `static-baseline` for static
 * clusters. `simulate()` adds it when it is missing, and hands the autoscaler its simulated
 * scheduler and backend as instances, so no `simulator` scheduler or backend is registered.
 */
export const simulatorPlugin = definePlugin<SimulatorOptions>({
  name: 'simulator',
  description: 'Replays workload traces through the real core and plugins on a virtual clock',
  configSchema: simulatorSchema,
  options: simulatorOptions,
  register(r) {
    r.heuristic('static-baseline', StaticBaselineHeuristic);
  },
});
