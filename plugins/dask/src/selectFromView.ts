import { RecentCache, type WorkersToCloseView } from '@ebbtide/core';
import { GreedyClose } from './greedyClose.js';
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

/**
 * Answers by view and query, for the last few views (one per store and grouping in use); an
 * answer is frozen, as it is shared by every caller of the same view.
 */
const memo = new RecentCache<WorkersToCloseView, Map<string, readonly string[]>>(8);

function walk(view: WorkersToCloseView, query: Omit<SelectQuery, 'key'>): string[] {
  const rule = new GreedyClose(view.workerCount, query, view.candidateMemoryLimit, view.candidateBytes);
  if (rule.nothingWhenAllBusy() && view.idleWorkers === 0) return [];
  // Sized once for the most it can close, then trimmed in place: growing by push would copy the
  // list several times over, and at thousands of names a tick that is most of a tick's garbage.
  const out = new Array<string>(rule.mostClosed);
  let count = 0;
  view.walk((g) => {
    if (!rule.accept(g.size, g.idle, g.memoryLimit)) return false;
    const names = g.workers;
    for (let i = 0; i < names.length; i++) out[count++] = names[i]!;
    return true;
  });
  out.length = count;
  return out;
}
