import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import type { TaskPrefixInfo } from '../contracts/TaskPrefixInfo.js';

export interface ResourceDemandOptions {
  /** Seconds the work should take (`adaptive.targetDuration`). */
  targetDuration: number;
  /** Seconds assumed for a prefix with no learned duration (`scheduler.unknownTaskDuration`). */
  unknownTaskDuration: number;
  /** Per-prefix defaults (`scheduler.defaultTaskDurations`). */
  defaultTaskDurations: Readonly<Record<string, number>>;
}

/** A prefix's expected task duration, by Dask's rule (`_get_prefix_duration`). */
function duration(name: string, info: TaskPrefixInfo | undefined, o: ResourceDemandOptions): number {
  if (info && info.durationAverage >= 0) return info.durationAverage;
  if (info && info.maxExecTime > 0) return 2 * info.maxExecTime;
  return o.defaultTaskDurations[name] ?? o.unknownTaskDuration;
}

/**
 * Units of each resource the work needs now, estimated the way Dask estimates CPU: the
 * unit-seconds of the tasks that need it (waiting and processing, each unit times its prefix's
 * expected duration) over `targetDuration`, rounded up, never more than the units the tasks
 * ask for and at least one unit while any task needs it. Pure.
 *
 * Used when the heuristic gives no `demand` of its own.
 */
export function resourceDemand(snapshot: SchedulerSnapshot, o: ResourceDemandOptions): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [r, tasks] of Object.entries(snapshot.resources ?? {})) {
    let units = 0;
    let seconds = 0;
    for (const [prefix, u] of Object.entries(tasks.units)) {
      units += u;
      seconds += u * duration(prefix, snapshot.prefixes[prefix], o);
    }
    if (units > 0) out[r] = Math.min(units, Math.max(1, Math.ceil(seconds / o.targetDuration)));
  }
  return out;
}
