import { definePlugin } from '@ebbtide/core';
import { type SimulatorOptions, simulatorOptions, simulatorSchema } from '../config.js';
import { SimulatorOnlyBackend, SimulatorOnlySchedulerAdapter } from './SimulatorOnly.js';
import { StaticBaselineHeuristic } from './StaticBaselineHeuristic.js';

/**
 * The simulator as a plugin: contributes the `simulator.*` config section (so `-c` files and
 * `ebbtide config` know its keys) and registers scheduler `simulator` and backend `simulator`,
 * the selections a simulation's kernel runs with, and heuristic `static-baseline` for static
 * clusters. `simulate()` adds it when it is missing.
 */
export const simulatorPlugin = definePlugin<SimulatorOptions>({
  name: 'simulator',
  description: 'Replays workload traces through the real core and plugins on a virtual clock',
  configSchema: simulatorSchema,
  options: simulatorOptions,
  register(r) {
    r.scheduler('simulator', SimulatorOnlySchedulerAdapter);
    r.backend('simulator', SimulatorOnlyBackend);
    r.heuristic('static-baseline', StaticBaselineHeuristic);
  },
});
