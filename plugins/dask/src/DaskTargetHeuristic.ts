import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { type HeuristicContext, type HeuristicResult, PLUGIN_OPTIONS, type ScalingHeuristic, type SchedulerSnapshot } from '@ebbtide/core';
import { adaptiveTarget } from './adaptiveTarget.js';
import { DASK_DEFAULT_SETTINGS, type DaskHeuristicSettings } from './config.js';

/** `heuristic: dask` — Dask's `adaptive_target`, with its settings from the plugin's options. */
@injectable()
export class DaskTargetHeuristic implements ScalingHeuristic {
  constructor(@inject(PLUGIN_OPTIONS) private readonly settings: DaskHeuristicSettings = DASK_DEFAULT_SETTINGS) {}

  /** A `targetDuration` in the context (set at run time through `adapt`) wins over the configured one. */
  target(snapshot: SchedulerSnapshot, ctx?: HeuristicContext): HeuristicResult {
    const duration = ctx?.targetDuration;
    return adaptiveTarget(snapshot, duration === undefined ? this.settings : { ...this.settings, targetDuration: duration });
  }
}
