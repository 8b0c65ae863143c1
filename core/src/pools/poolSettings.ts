import type { EbbtideConfig } from '../config/EbbtideConfig.js';
import { NO_GUARD_RAILS, type GuardRails } from './GuardRails.js';
import type { PoolConfig } from './PoolConfig.js';

/** The pool and guard-rail settings of a validated config; defaults (no pools, no rails) where its schema lacked `poolsSchema`. */
export interface PoolSettings {
  pools: PoolConfig[];
  /** The cluster's own rails (`adaptive.scaleUp`, `scaleDown`, `blind`, `schedule`). */
  rails: GuardRails;
}

export function poolSettings(config: EbbtideConfig): PoolSettings {
  const a = config.adaptive as Partial<GuardRails>;
  return {
    pools: (config.pools as PoolConfig[] | undefined) ?? [],
    rails: {
      scaleUp: a.scaleUp ?? NO_GUARD_RAILS.scaleUp,
      scaleDown: a.scaleDown ?? NO_GUARD_RAILS.scaleDown,
      blind: a.blind ?? NO_GUARD_RAILS.blind,
      schedule: a.schedule ?? NO_GUARD_RAILS.schedule,
    },
  };
}
