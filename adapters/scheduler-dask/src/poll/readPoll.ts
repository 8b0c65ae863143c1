import { keyFromId } from '../wire/daskKey.js';
import type { DaskComm } from '../wire/DaskComm.js';
import {
  type DaskWorkerView,
  type TaskStreamEntry,
  parseIdentity,
  parsePrefixStates,
  parseProcessing,
  parseTaskStatus,
  parseTaskStream,
  parseWhoHas,
} from './parseReplies.js';
import { type PendingCounts, countPending, pendingCandidates } from './pendingTasks.js';
import type { TaskStreamCursor } from './TaskStreamCursor.js';

/** Everything one poll reads from the scheduler, parsed. */
export interface RawPoll {
  workers: DaskWorkerView[];
  /** Worker address → ids of processing tasks (long-running included). */
  processing: Map<string, string[]>;
  pending: PendingCounts;
  /** Completions recorded since the previous poll, in the scheduler's order (see `TaskStreamCursor`). */
  stream: TaskStreamEntry[];
  /** Number of tasks the scheduler knows (length of `who_has`). */
  tasks: number;
  /** Tasks whose state was asked for to count queued and unrunnable ones. */
  statusQueried: number;
}

/**
 * Reads the scheduler state one snapshot needs, with these RPCs in order:
 * `identity`, `processing`, `who_has`, `get_task_prefix_states`, `get_task_status` (only when
 * some prefix has queued or unrunnable tasks) and `get_task_stream` (again, with a larger count,
 * when more tasks completed than the cursor asked for).
 *
 * The calls are not atomic: a task may move between two of them. Each count is exact for the
 * moment its call ran, and the next poll corrects any mismatch.
 *
 * @throws EbbtideError `SCHEDULER_UNREACHABLE` / `SCHEDULER_PROTOCOL` from the comm or the parsers.
 */
export async function readPoll(comm: DaskComm, cursor: TaskStreamCursor): Promise<RawPoll> {
  const workers = parseIdentity(await comm.call('identity'));
  const processing = parseProcessing(await comm.call('processing'));
  const whoHas = parseWhoHas(await comm.call('who_has'));
  const states = parsePrefixStates(await comm.call('get_task_prefix_states'));
  const processingIds = new Set<string>();
  for (const ids of processing.values()) for (const id of ids) processingIds.add(id);
  const candidates = pendingCandidates(whoHas, processingIds, states);
  const pending =
    candidates.length > 0 ? countPending(parseTaskStatus(await comm.call('get_task_status', { keys: candidates.map(keyFromId) }))) : new Map();
  let { count } = cursor.args();
  let stream: TaskStreamEntry[];
  for (;;) {
    const step = cursor.accept(parseTaskStream(await comm.call('get_task_stream', { count })), count);
    if ('fresh' in step) {
      stream = step.fresh;
      break;
    }
    count = step.retryCount;
  }
  return { workers, processing, pending, stream, tasks: Object.keys(whoHas).length, statusQueried: candidates.length };
}
