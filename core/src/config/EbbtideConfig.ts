import type { ConfigOf } from './ConfigOf.js';
import type { coreSchema } from './coreSchema.js';

/**
 * The validated configuration with typed values: durations in seconds, `"inf"` as `Infinity`.
 * The core's keys are typed from `coreSchema` itself; sections contributed by plugins (and
 * plugin sections under `scheduler.` and `backend.`) are `unknown` until a plugin types its own
 * with `ConfigOf<typeof itsSchema>`.
 */
export type EbbtideConfig = ConfigOf<typeof coreSchema> & {
  scheduler: Record<string, unknown>;
  backend: Record<string, unknown>;
  [section: string]: unknown;
};
