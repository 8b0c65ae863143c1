import { type ConfigSchemaSection, EbbtideError, type EbbtideConfig } from '@ebbtide/core';
import { type StartupDelay, parseStartupDelay } from './sim/StartupDelay.js';

/** The `simulator.*` config section. */
export const simulatorSchema = {
  simulator: {
    startupDelay: {
      doc: 'Time a simulated worker takes to connect after it is started: a duration ("5s"), "uniform:<min>:<max>" ("uniform:2s:10s") or "exp:<mean>" ("exp:5s"), drawn from the seeded generator.',
      format: 'string',
      default: '5s',
    },
    bandwidth: {
      doc: 'Bytes per second at which a retirement copies a worker\'s unique results to another worker ("100MB" = 1e8 bytes/s).',
      format: 'bytes',
      default: '100MB',
    },
    seed: {
      doc: 'Seed of the simulation\'s random draws (startup delays); the same seed gives the same run.',
      format: 'whole-number',
      default: 1,
    },
    heartbeatInterval: {
      doc: 'How often the simulated scheduler reports the longest-running task of each prefix (task.executing, feeds maxExecTime); 0 = never.',
      format: 'duration',
      default: '1s',
    },
    horizon: {
      doc: 'Virtual time at which a simulation stops even if work is left; 0 = run until the trace is done and the cluster is back at adaptive.minimum.',
      format: 'duration',
      default: 0,
    },
    settleTimeout: {
      doc: 'Once every task is done and released, how long to wait for the cluster to shrink back to adaptive.minimum before stopping anyway.',
      format: 'duration',
      default: '1h',
    },
  },
} satisfies ConfigSchemaSection;

/** Typed simulator settings (seconds, bytes per second). */
export interface SimulatorOptions {
  startupDelay: StartupDelay;
  /** Bytes per second, > 0. */
  bandwidth: number;
  seed: number;
  /** Seconds between `task.executing` reports; 0 = none. */
  heartbeatInterval: number;
  /** Seconds; 0 = none. */
  horizon: number;
  /** Seconds. */
  settleTimeout: number;
}

/**
 * The simulator's options from a validated config.
 *
 * @throws EbbtideError `CONFIG_INVALID` for a bad `simulator.startupDelay` or a zero bandwidth.
 */
export function simulatorOptions(config: EbbtideConfig): SimulatorOptions {
  const s = config.simulator as
    | { startupDelay: string; bandwidth: number; seed: number; heartbeatInterval: number; horizon: number; settleTimeout: number }
    | undefined;
  if (!s) {
    throw new EbbtideError('CONFIG_INVALID', 'simulator: the config has no simulator section; register the simulator plugin', { key: 'simulator' });
  }
  if (!(s.bandwidth > 0)) {
    throw new EbbtideError('CONFIG_INVALID', `simulator.bandwidth: expected a size > 0 per second such as "100MB", got ${JSON.stringify(s.bandwidth)}`, {
      key: 'simulator.bandwidth',
    });
  }
  return {
    startupDelay: parseStartupDelay(s.startupDelay),
    bandwidth: s.bandwidth,
    seed: s.seed,
    heartbeatInterval: s.heartbeatInterval,
    horizon: s.horizon,
    settleTimeout: s.settleTimeout,
  };
}
