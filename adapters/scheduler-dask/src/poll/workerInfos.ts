import type { WorkerInfo } from '@ebbtide/core';
import { prefixOfId } from '../wire/daskKey.js';
import type { DaskWorkerView } from './parseReplies.js';

/** A task seen executing for `elapsed` seconds (feeds `PrefixDurations.observeExecuting`). */
export interface ExecutingObservation {
  prefix: string;
  elapsed: number;
}

export interface WorkerInfosResult {
  workers: WorkerInfo[];
  executing: ExecutingObservation[];
}

/**
 * Builds `WorkerInfo`s from the scheduler's workers and their processing tasks.
 *
 * Exact: the workers, their order, and the set of tasks assigned to each. Estimated: which of a
 * worker's tasks are long-running and which are executing. The worker reports only how many of
 * its tasks are long-running and executing (`metrics.task_counts`, from its last heartbeat), not
 * which. Tasks run roughly in the order they arrive, so the oldest `longRunning` tasks (by
 * first time seen processing) are taken as the seceded ones, and the next `executing` as the
 * ones running now. Without metrics, up to `nthreads` tasks are taken as executing.
 *
 * @param workers `identity` workers, in scheduler order (kept)
 * @param processing worker address → ids of its processing tasks
 * @param since first time (seconds) an id was seen processing
 * @param now seconds, same clock as `since`
 */
export function workerInfos(
  workers: readonly DaskWorkerView[],
  processing: ReadonlyMap<string, readonly string[]>,
  since: (id: string) => number | undefined,
  now: number,
): WorkerInfosResult {
  const infos: WorkerInfo[] = [];
  const executing: ExecutingObservation[] = [];
  for (const w of workers) {
    const ids = processing.get(w.address) ?? [];
    // Oldest first; Array.prototype.sort is stable, so equal ages keep the scheduler's order.
    const order = ids.map((id) => ({ id, at: since(id) ?? now })).sort((a, b) => a.at - b.at);
    const longRunning = clamp(w.longRunning ?? 0, 0, order.length);
    const running = clamp(w.executing ?? Math.min(w.nthreads, order.length - longRunning), 0, order.length - longRunning);
    const perPrefix: Record<string, number> = {};
    for (let i = longRunning; i < order.length; i++) {
      const prefix = prefixOfId(order[i]!.id);
      perPrefix[prefix] = (perPrefix[prefix] ?? 0) + 1;
      if (i < longRunning + running) executing.push({ prefix, elapsed: Math.max(0, now - order[i]!.at) });
    }
    const info: WorkerInfo = {
      name: w.name,
      address: w.address,
      host: w.host,
      nthreads: w.nthreads,
      memoryLimit: w.memoryLimit,
      nbytes: w.managedBytes,
      processing: perPrefix,
      longRunning,
      status: w.status,
      labels: {},
    };
    if (Object.keys(w.resources).length > 0) info.resources = { ...w.resources };
    infos.push(info);
  }
  return { workers: infos, executing };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
