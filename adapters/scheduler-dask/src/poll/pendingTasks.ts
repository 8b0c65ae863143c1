import { prefixOfId } from '../wire/daskKey.js';
import type { PrefixStateCounts } from './parseReplies.js';

/**
 * Tasks waiting for a worker, per prefix: Dask's `queued` and `no-worker` states, and the ids of
 * the `no-worker` ones (whose resource restrictions may make them demand for a resource).
 */
export type PendingCounts = Map<string, { queued: number; unrunnable: number; unrunnableIds?: string[] }>;

/**
 * The tasks whose state we must ask for (`get_task_status`) to count the queued and unrunnable
 * ones per prefix.
 *
 * Dask (2022.12, and still 2026.8) has no RPC that counts `queued` or `no-worker` tasks per prefix:
 * `get_task_prefix_states` reports only memory, erred, released, processing and waiting. But
 * `who_has()` lists every task, so for each prefix the tasks it lists beyond those five counts
 * are exactly the queued and unrunnable ones. Only prefixes with such a gap are asked about, and
 * of those only tasks that hold no result and are not processing.
 *
 * @param whoHas every task id → addresses holding its result
 * @param processing ids of every processing task
 * @param states `get_task_prefix_states`
 * @returns task ids to pass to `get_task_status`
 */
export function pendingCandidates(whoHas: Record<string, string[]>, processing: ReadonlySet<string>, states: PrefixStateCounts): string[] {
  const byPrefix = new Map<string, string[]>();
  const totals = new Map<string, number>();
  for (const id in whoHas) {
    const prefix = prefixOfId(id);
    totals.set(prefix, (totals.get(prefix) ?? 0) + 1);
    if (whoHas[id]!.length > 0 || processing.has(id)) continue;
    let list = byPrefix.get(prefix);
    if (!list) byPrefix.set(prefix, (list = []));
    list.push(id);
  }
  const out: string[] = [];
  for (const [prefix, ids] of byPrefix) {
    const s = states[prefix];
    const known = s ? s.memory + s.erred + s.released + s.processing + s.waiting : 0;
    if (totals.get(prefix)! - known > 0) out.push(...ids);
  }
  return out;
}

/** Counts `queued` and `no-worker` tasks per prefix in a `get_task_status` reply. */
export function countPending(status: Record<string, string | null>): PendingCounts {
  const out: PendingCounts = new Map();
  for (const id in status) {
    const state = status[id];
    if (state !== 'queued' && state !== 'no-worker') continue;
    const prefix = prefixOfId(id);
    let c = out.get(prefix);
    if (!c) out.set(prefix, (c = { queued: 0, unrunnable: 0 }));
    if (state === 'queued') c.queued++;
    else {
      c.unrunnable++;
      (c.unrunnableIds ??= []).push(id);
    }
  }
  return out;
}
