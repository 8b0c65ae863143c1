import type { HeuristicContext } from '../contracts/ScalingHeuristic.js';
import type { EbbtideConfig } from './EbbtideConfig.js';

/** The heuristic settings of a validated config. */
export function heuristicContext(config: EbbtideConfig): HeuristicContext {
  return {
    targetDuration: config.adaptive.targetDuration,
    unknownTaskDuration: config.scheduler.unknownTaskDuration,
    defaultTaskDurations: config.scheduler.defaultTaskDurations,
  };
}
