import type { WorkersToCloseView } from '@ebbtide/core';
import type { SelectQuery } from './selectWorkersToClose.js';

/**
 * `selectWorkersToClose` read from the state store's incremental closing order: the same rules
 * over the same order (idle groups first, then the fewest bytes, later-registered first), walked
 * only as far as the greedy search goes — O(k) for k closed groups after the store's O(log W)
 * per changed worker. The grouping is the view's (the query's `key` is not used: ask the
 * snapshot's `closingOrder(key)` for the grouping wanted).
 */
export function selectFromView(view: WorkersToCloseView, query: Omit<SelectQuery, 'key'>): string[] {
  // The store hands out the same view while the order is unchanged: the answer is then the same too.
  const signature = `${query.n}/${query.target}/${query.minimum}/${query.memoryRatio}`;
  let answers = memo.get(view);
  const known = answers?.get(signature);
  if (known) return known as string[];
  const out = Object.freeze(walk(view, query));
  if (!answers) memo.set(view, (answers = new Map()));
  answers.set(signature, out);
  return out as string[];
}

/** Answers by view and query; an answer is frozen, as it is shared by every caller of the same view. */
const memo = new WeakMap<WorkersToCloseView, Map<string, readonly string[]>>();

function walk(view: WorkersToCloseView, query: Omit<SelectQuery, 'key'>): string[] {
  const nW = view.workerCount;
  let { n, target, memoryRatio } = query;
  if (target !== undefined && n === undefined) n = nW - target;
  if (n !== undefined) {
    if (n < 0) n = 0;
    target = nW - n;
  }
  if (n === undefined && memoryRatio === undefined) memoryRatio = 2;
  // Dask returns nothing when every worker is busy, unless asked for a count.
  if (!n && view.idleWorkers === 0) return [];

  const minimum = query.minimum;
  const total = view.candidateBytes;
  const least = target || 0;
  let limit = view.candidateMemoryLimit;
  let nRemain = nW;
  const out: string[] = [];
  view.walk((g) => {
    const size = g.size;
    if (n === undefined && !g.idle) return false;
    if (minimum && nRemain - size < minimum) return false;
    limit -= g.memoryLimit;
    const byCount = n !== undefined && nRemain - size >= least;
    const byMemory = memoryRatio !== undefined && limit >= memoryRatio * total;
    if (!(byCount || byMemory)) return false;
    const names = g.workers;
    for (let i = 0; i < names.length; i++) out.push(names[i]!);
    nRemain -= size;
    return true;
  });
  return out;
}
