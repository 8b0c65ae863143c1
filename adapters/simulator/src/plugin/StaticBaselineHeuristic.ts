import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { HeuristicResult, ScalingHeuristic } from '@ebbtide/core';

/**
 * The heuristic of a static baseline: it wants nothing, so the clamp to
 * `minimum = maximum = size` decides. Same loop, same cluster, same timing as an adaptive run,
 * but O(1) per tick, so a day of a 2,000-worker static cluster simulates quickly.
 */
@injectable()
export class StaticBaselineHeuristic implements ScalingHeuristic {
  target(): HeuristicResult {
    return { target: 0, explanation: { rule: 'static baseline: the size is adaptive.minimum = adaptive.maximum' } };
  }
}

