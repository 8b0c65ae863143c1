import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { HeuristicContext, HeuristicResult, ScalingHeuristic, SchedulerSnapshot } from '@ebbtide/core';
import { adaptiveTarget } from './adaptiveTarget.js';

/** `heuristic: dask` — Dask's `adaptive_target`. */
@injectable()
export class DaskTargetHeuristic implements ScalingHeuristic {
  target(snapshot: SchedulerSnapshot, ctx: HeuristicContext): HeuristicResult {
    return adaptiveTarget(snapshot, ctx);
  }
}
