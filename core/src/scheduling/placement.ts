import type { ModelWorker } from './records.js';

/** True when `w` has `needs` free now: what it offers minus what its runs in flight hold. */
export function hasFreeResources(w: ModelWorker, needs: Readonly<Record<string, number>>): boolean {
  for (const r in needs) {
    let free = w.resources?.[r] ?? 0;
    if (free < needs[r]!) return false;
    for (const t of w.processing.values()) free -= t.resources?.[r] ?? 0;
    if (free < needs[r]!) return false;
  }
  return true;
}

/**
 * Where a queued task goes: the `running` worker with the most free thread slots (a run in flight
 * takes a slot until it is reported) and, for a task with resource restrictions (`needs`), the
 * resources free on it (Dask's resource restrictions: a run holds its share until it ends); ties
 * go to the earliest registered. `undefined` when no such worker has a free slot. `workers` must
 * be in registration order.
 */
export function pickWorker<Wk extends ModelWorker>(workers: Iterable<Wk>, needs?: Readonly<Record<string, number>>): Wk | undefined {
  let best: Wk | undefined;
  let bestFree = 0;
  for (const w of workers) {
    if (w.status !== 'running') continue;
    const free = w.nthreads - w.processing.size;
    if (free > bestFree && (!needs || hasFreeResources(w, needs))) {
      best = w;
      bestFree = free;
    }
  }
  return best;
}

/**
 * Where a retiring worker's results go: the `running` worker holding the fewest bytes; ties go to
 * the earliest registered. `workers` must be in registration order.
 */
export function pickRecipient<Wk extends ModelWorker>(workers: Iterable<Wk>): Wk | undefined {
  let best: Wk | undefined;
  for (const w of workers) {
    if (w.status === 'running' && (!best || w.nbytes < best.nbytes)) best = w;
  }
  return best;
}
