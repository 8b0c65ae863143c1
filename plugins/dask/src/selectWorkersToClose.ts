import { type WorkerInfo, isWorkerBusy } from '@ebbtide/core';
import { GreedyClose } from './greedyClose.js';

export interface SelectQuery {
  n?: number;
  target?: number;
  minimum?: number;
  memoryRatio?: number;
  /** Group of a worker; each worker is its own group when absent. */
  key?: (w: WorkerInfo) => string;
}

/**
 * Dask's `Scheduler.workers_to_close` (main), as a pure function of the workers in registration
 * order. Returns names in closing order.
 *
 * - n/target mode (`n` or `target` given): close whole groups, idle ones first, then those
 *   holding the fewest bytes (ties: the later-registered group first), until closing the next
 *   group would leave fewer than `target` workers. Busy workers may be closed.
 * - memory mode (neither given, `memoryRatio` defaults to 2): only idle groups, and only while the
 *   memory limit left after closing stays >= memoryRatio x the bytes stored.
 * - Both `n` and `memoryRatio`: a group closes if either rule accepts it (Dask's OR).
 * - Workers running long-running (seceded) tasks are never candidates.
 * - The search is greedy: the first group that cannot close ends it.
 *
 * @example
 * selectWorkersToClose(workers, { target: 2 })      // names to close to keep 2 workers
 * selectWorkersToClose(workers, {})                 // idle workers closable with 2x memory headroom
 */
export function selectWorkersToClose(workers: readonly WorkerInfo[], query: SelectQuery): string[] {
  // Groups in order of first appearance; without a key each worker is its own group.
  const members: WorkerInfo[][] = [];
  if (query.key) {
    const index = new Map<string, number>();
    for (const w of workers) {
      if (w.longRunning > 0) continue;
      const k = query.key(w);
      const at = index.get(k);
      if (at === undefined) {
        index.set(k, members.length);
        members.push([w]);
      } else members[at]!.push(w);
    }
  } else {
    for (const w of workers) if (w.longRunning === 0) members.push([w]);
  }

  const G = members.length;
  const limitBytes = new Float64Array(G);
  const bytes = new Float64Array(G);
  const idle = new Uint8Array(G);
  let limit = 0;
  let total = 0;
  for (let g = 0; g < G; g++) {
    let l = 0;
    let b = 0;
    let busy = false;
    for (const w of members[g]!) {
      l += w.memoryLimit;
      b += w.nbytes;
      busy ||= isWorkerBusy(w);
    }
    limitBytes[g] = l;
    bytes[g] = b;
    idle[g] = busy ? 0 : 1;
    limit += l;
    total += b;
  }

  // Ascending by (idle, -bytes), stable (index breaks ties); visited from the end.
  const order = Array.from({ length: G }, (_, g) => g).sort((a, b) => idle[a]! - idle[b]! || bytes[b]! - bytes[a]! || a - b);

  const rule = new GreedyClose(workers.length, query, limit, total);
  if (rule.nothingWhenAllBusy() && workers.every(isWorkerBusy)) return [];
  const toClose: number[] = [];
  while (order.length) {
    const g = order.pop()!;
    if (!rule.accept(members[g]!.length, idle[g] === 1, limitBytes[g]!)) break;
    toClose.push(g);
  }
  return toClose.flatMap((g) => members[g]!.map((w) => w.name));
}
