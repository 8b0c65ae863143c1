import type { ModelWorker } from './records.js';

/**
 * Where a queued task goes: the `running` worker with the most free thread slots (a run in flight
 * takes a slot until it is reported); ties go to the earliest registered. `undefined` when no
 * running worker has a free slot. `workers` must be in registration order.
 */
export function pickWorker<Wk extends ModelWorker>(workers: Iterable<Wk>): Wk | undefined {
  let best: Wk | undefined;
  let bestFree = 0;
  for (const w of workers) {
    if (w.status !== 'running') continue;
    const free = w.nthreads - w.processing.size;
    if (free > bestFree) {
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
