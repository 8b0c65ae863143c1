import { pickRecipient } from './placement.js';
import type { ModelTask, ModelWorker } from './records.js';
import type { SchedulingModel } from './SchedulingModel.js';

/** What a retirement does next; see `retirementStep`. */
export type RetirementStep<T = unknown, W = unknown> =
  /** The worker disconnected meanwhile: nothing left to do (what it held only is already lost). */
  | { kind: 'gone' }
  /** It holds nothing that exists nowhere else: it can be closed. */
  | { kind: 'clear' }
  /** It is kept (and back to `running`): its unique results have nowhere to go. */
  | { kind: 'kept'; reason: string }
  /** Copy these results (`bytes` in all) to `to`, then ask again. */
  | { kind: 'move'; tasks: Array<ModelTask<T, W>>; to: ModelWorker<T, W>; bytes: number };

/** Why a retirement keeps its worker. */
export const KEPT_NO_RECIPIENT = 'holds data that cannot be moved';
export const KEPT_COPY_FAILED = 'copying its data failed repeatedly';

/**
 * The retirement plan for a `closing` worker, one step at a time: move the results only it holds
 * to the running worker holding the fewest bytes (ties: registration order), until none is left;
 * with no recipient, keep the worker. The host copies the data its own way (over the wire, or in
 * virtual time), records the copies with `model.addReplicas`, and asks again, because while it
 * copied, results may have been released, computed or lost, and recipients may have gone.
 *
 * `giveUp`: the host's copies keep failing; keep the worker. A kept worker is set back to
 * `running` here.
 */
export function retirementStep<T, W>(model: SchedulingModel<T, W>, worker: ModelWorker<T, W>, options: { giveUp?: boolean } = {}): RetirementStep<T, W> {
  if (worker.gone) return { kind: 'gone' };
  const tasks = model.uniqueResultsOf(worker);
  if (tasks.length === 0) return { kind: 'clear' };
  const to = pickRecipient(model.workers());
  if (!to || options.giveUp) {
    model.setStatus(worker, 'running');
    return { kind: 'kept', reason: to ? KEPT_COPY_FAILED : KEPT_NO_RECIPIENT };
  }
  let bytes = 0;
  for (const t of tasks) bytes += t.nbytes;
  return { kind: 'move', tasks, to, bytes };
}
