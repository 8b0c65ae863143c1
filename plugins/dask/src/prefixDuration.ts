import type { TaskPrefixInfo } from '@ebbtide/core';
import type { DaskHeuristicSettings } from './config.js';

/**
 * Dask's `_get_prefix_duration`: the learned average; if unknown, twice the longest running
 * time seen; if none, the configured default for the prefix, else the unknown-task duration.
 *
 * Dask seeds a prefix with its default at creation, and only forgets the average once a task ran
 * for longer than twice it (which sets `maxExecTime > 0`), so falling back to the default only
 * when `maxExecTime <= 0` gives the same number as Dask.
 */
export function prefixDuration(name: string, info: TaskPrefixInfo | undefined, ctx: DaskHeuristicSettings): number {
  if (info && info.durationAverage >= 0) return info.durationAverage;
  if (info && info.maxExecTime > 0) return 2 * info.maxExecTime;
  return ctx.defaultTaskDurations[name] ?? ctx.unknownTaskDuration;
}
