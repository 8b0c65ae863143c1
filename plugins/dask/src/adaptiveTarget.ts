import type { Explanation, SchedulerSnapshot, SnapshotTotals, WorkerInfo } from '@ebbtide/core';
import type { DaskHeuristicSettings } from './config.js';
import { prefixDuration } from './prefixDuration.js';
import { selectFromView } from './selectFromView.js';
import { selectWorkersToClose } from './selectWorkersToClose.js';

export interface AdaptiveTargetResult {
  target: number;
  explanation: Explanation;
}

/**
 * Dask's `Scheduler.adaptive_target` (main semantics), pure.
 *
 * 1. CPU: seconds of work = occupancy of processing tasks (long-running excluded) + queued and
 *    unrunnable tasks x their prefix duration; `cpu = ceil(seconds / targetDuration)`.
 * 2. Never more than there are tasks (queued + unrunnable + processing, long-running included).
 * 3. Threads to workers: `ceil(cpu / totalThreads x nWorkers)` when there are workers.
 * 4. Work waiting on an empty cluster asks for at least one worker.
 * 5. Memory: more than 60 % of the total memory limit used doubles the cluster.
 * 6. Below the current size, the CPU estimate is dropped: the target becomes the number of
 *    workers that are not closable (Dask's `workers_to_close()` in memory mode).
 *
 * Deliberate deviation: queued work is summed exactly per prefix; Dask samples the first 100
 * queued tasks and scales the sum linearly.
 */
export function adaptiveTarget(snapshot: SchedulerSnapshot, ctx: DaskHeuristicSettings): AdaptiveTargetResult {
  const { workers, prefixes } = snapshot;
  const nW = workers.length;
  const durations = new Map<string, number>();
  const duration = (p: string) => {
    let d = durations.get(p);
    if (d === undefined) {
      d = prefixDuration(p, prefixes[p], ctx);
      durations.set(p, d);
    }
    return d;
  };

  let queuedOccupancy = 0;
  let tasksReady = 0;
  // for-in, not Object.entries: the same order without an array of pairs per tick.
  for (const name in prefixes) {
    const p = prefixes[name]!;
    const waiting = p.queued + p.unrunnable;
    if (waiting > 0) {
      queuedOccupancy += waiting * duration(name);
      tasksReady += waiting;
    }
  }

  // Occupancy from per-prefix counts over the whole cluster, as Dask's _task_prefix_count_global;
  // a state store hands these sums over ready-made, so the scale-up path skips a walk over workers.
  const totals = snapshot.totals ?? sumWorkers(workers);
  const tasks = tasksReady + totals.workerTasks;
  const totalThreads = totals.nthreads;
  const limit = totals.memoryLimit;
  const used = totals.nbytes;
  let occupancy = 0;
  for (const p in totals.processing) occupancy += duration(p) * totals.processing[p]!;
  occupancy = Math.max(occupancy, 0);

  const cpuWanted = Math.ceil((occupancy + queuedOccupancy) / ctx.targetDuration);
  let cpu = Math.min(cpuWanted, tasks);
  const threadsWanted = cpu;
  if (nW > 0 && totalThreads > 0) cpu = Math.ceil((cpu / totalThreads) * nW);
  if (tasksReady > 0 && nW === 0) cpu = Math.max(1, cpu);

  const memoryDoubles = used > 0.6 * limit && limit > 0;
  const memory = memoryDoubles ? 2 * nW : 0;
  const wanted = Math.max(memory, cpu);

  const explanation: Explanation = {
    occupancy,
    queuedOccupancy,
    tasksReady,
    tasks,
    cpuWanted,
    cappedByTaskCount: cpuWanted > tasks,
    threads: { total: totalThreads, workers: nW, wanted: threadsWanted },
    cpu,
    memory: { used, limit, doubles: memoryDoubles, workers: memory },
  };

  if (wanted >= nW) {
    return { target: wanted, explanation: { ...explanation, rule: wanted > nW ? 'scale-up' : 'steady' } };
  }
  // The store's closing order answers in O(closable); a snapshot without one (a file) is sorted.
  const order = snapshot.closingOrder?.();
  const closable = order ? selectFromView(order, {}) : selectWorkersToClose(workers, {});
  return {
    target: nW - closable.length,
    explanation: { ...explanation, rule: 'scale-down: keep every worker that is busy or needed for memory', closable },
  };
}

/** The sums `SnapshotTotals` holds, computed from the workers (for snapshots without them). */
export function sumWorkers(workers: readonly WorkerInfo[]): SnapshotTotals {
  const processing: Record<string, number> = {};
  let workerTasks = 0;
  let nthreads = 0;
  let memoryLimit = 0;
  let nbytes = 0;
  for (const w of workers) {
    workerTasks += w.longRunning;
    for (const p in w.processing) {
      const n = w.processing[p]!;
      workerTasks += n;
      processing[p] = (processing[p] ?? 0) + n;
    }
    nthreads += w.nthreads;
    memoryLimit += w.memoryLimit;
    nbytes += w.nbytes;
  }
  return { processing, workerTasks, nthreads, memoryLimit, nbytes };
}
