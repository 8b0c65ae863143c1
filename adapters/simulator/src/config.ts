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
    pools: {
      doc: 'Per worker pool (pools:), what its simulated backend does: { <pool>: { startupDelay, capacity } } — its own startup delay (as simulator.startupDelay; default that) and the most workers it holds (a quota; starts beyond it fail for lack of capacity, so the pool is capacity-limited and demand spills over).',
      // convict's built-in Object: its entries are objects themselves, which a named format's
      // value may not be (convict would look for their keys in the schema). Checked by simulatorOptions.
      format: 'Object',
      default: {},
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
  /** Per pool name: its startup delay and capacity (`simulator.pools`). */
  pools: Record<string, SimulatedPoolOptions>;
}

/** One simulated pool's backend. */
export interface SimulatedPoolOptions {
  startupDelay?: StartupDelay;
  /** Most workers at once; absent: no limit. */
  capacity?: number;
}

/** `simulator.pools`, checked. @throws EbbtideError `CONFIG_INVALID` naming the pool and the key. */
function simulatedPools(raw: unknown): Record<string, SimulatedPoolOptions> {
  const fail = (key: string, what: string): never => {
    throw new EbbtideError('CONFIG_INVALID', `${key}: ${what}`, { key: 'simulator.pools' });
  };
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return fail('simulator.pools', `expected { <pool>: { startupDelay, capacity } }, got ${JSON.stringify(raw)}`);
  const out: Record<string, SimulatedPoolOptions> = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const key = `simulator.pools.${name}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, `expected { startupDelay, capacity }, got ${JSON.stringify(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'startupDelay' && k !== 'capacity') fail(`${key}.${k}`, 'unknown key; expected startupDelay or capacity');
    const pool: SimulatedPoolOptions = {};
    if (o.startupDelay !== undefined) pool.startupDelay = parseStartupDelay(o.startupDelay, `${key}.startupDelay`);
    if (o.capacity !== undefined) {
      if (!Number.isSafeInteger(o.capacity) || (o.capacity as number) < 0) fail(`${key}.capacity`, `expected a whole number >= 0, got ${JSON.stringify(o.capacity)}`);
      pool.capacity = o.capacity as number;
    }
    out[name] = pool;
  }
  return out;
}

/**
 * The simulator's options from a validated config.
 *
 * @throws EbbtideError `CONFIG_INVALID` for a bad `simulator.startupDelay` or a zero bandwidth.
 */
export function simulatorOptions(config: EbbtideConfig): SimulatorOptions {
  const s = config.simulator as
    | { startupDelay: string; bandwidth: number; seed: number; heartbeatInterval: number; horizon: number; settleTimeout: number; pools?: unknown }
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
    pools: simulatedPools(s.pools),
  };
}
