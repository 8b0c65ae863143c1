import type { LogLevel } from '../logging/Logger.js';
import type { BlindRule, ScalingPolicy, ScheduleEntry, SelectPolicy } from '../pools/GuardRails.js';
import type { PoolConfig } from '../pools/PoolConfig.js';

/**
 * The typed value each config format resolves to (what `options(config)` and the core see:
 * durations in seconds, sizes in bytes, `"inf"` as `Infinity`).
 */
export interface FormatTypes {
  duration: number;
  'positive-duration': number;
  'duration-map': Record<string, number>;
  'count-or-inf': number;
  'whole-number': number;
  'positive-integer': number;
  'positive-number-or-null': number | null;
  bytes: number;
  name: string;
  selection: string;
  string: string;
  boolean: boolean;
  'string-list': string[];
  command: string[];
  'string-map': Record<string, string>;
  port: number;
  'log-level': LogLevel;
  'log-format': 'pretty' | 'json';
  'cluster-name': string;
  'shutdown-workers': 'stop' | 'keep';
  'scaling-policies': ScalingPolicy[];
  'select-policy': SelectPolicy;
  'blind-policy': BlindRule['policy'];
  schedule: ScheduleEntry[];
  pools: PoolConfig[];
}

type LeafValue<F> = F extends keyof FormatTypes ? FormatTypes[F] : F extends readonly (infer E)[] ? E : unknown;

/**
 * The validated configuration a schema declaration describes, derived from the declaration
 * itself (declare it `as const satisfies ConfigSchemaSection`), so a key's type never drifts
 * from its format.
 *
 * @example
 * ```ts
 * const schema = { perN: { perWorker: { doc: 'Tasks per worker', format: 'positive-integer', default: 10 } } } as const satisfies ConfigSchemaSection;
 * type PerN = ConfigOf<typeof schema>['perN'];   // { perWorker: number }
 * ```
 */
export type ConfigOf<S> = {
  -readonly [K in keyof S]: S[K] extends { readonly format: infer F; readonly default: unknown } ? LeafValue<F> : ConfigOf<S[K]>;
};
