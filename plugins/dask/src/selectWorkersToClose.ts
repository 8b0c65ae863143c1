import { type WorkerInfo, isWorkerBusy } from '@ebbtide/core';

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
  const nW = workers.length;
  let { n, target, memoryRatio } = query;
  if (target !== undefined && n === undefined) n = nW - target;
  if (n !== undefined) {
    if (n < 0) n = 0;
    target = nW - n;
  }
  if (n === undefined && memoryRatio === undefined) memoryRatio = 2;
  if (!n && workers.every(isWorkerBusy)) return [];

  const keyOf = query.key ?? ((w: WorkerInfo) => w.name);
  const groups = new Map<string, WorkerInfo[]>();
  for (const w of workers) {
    if (w.longRunning > 0) continue;
    const k = keyOf(w);
    const g = groups.get(k);
    if (g) g.push(w);
    else groups.set(k, [w]);
  }

  interface Group {
    members: WorkerInfo[];
    limitBytes: number;
    bytes: number;
    idle: boolean;
  }
  const list: Group[] = [];
  let limit = 0;
  let total = 0;
  for (const members of groups.values()) {
    let limitBytes = 0;
    let bytes = 0;
    for (const w of members) {
      limitBytes += w.memoryLimit;
      bytes += w.nbytes;
    }
    limit += limitBytes;
    total += bytes;
    list.push({ members, limitBytes, bytes, idle: !members.some(isWorkerBusy) });
  }

  // Ascending by (idle, -bytes), stable; visited from the end.
  const order = list
    .map((g, i) => ({ g, i }))
    .sort((a, b) => Number(a.g.idle) - Number(b.g.idle) || b.g.bytes - a.g.bytes || a.i - b.i)
    .map((x) => x.g);

  const toClose: Group[] = [];
  let nRemain = nW;
  while (order.length) {
    const g = order.pop()!;
    if (n === undefined && !g.idle) break;
    if (query.minimum && nRemain - g.members.length < query.minimum) break;
    limit -= g.limitBytes;
    const byCount = n !== undefined && nRemain - g.members.length >= (target || 0);
    const byMemory = memoryRatio !== undefined && limit >= memoryRatio * total;
    if (!(byCount || byMemory)) break;
    toClose.push(g);
    nRemain -= g.members.length;
  }
  return toClose.flatMap((g) => g.members.map((w) => w.name));
}
