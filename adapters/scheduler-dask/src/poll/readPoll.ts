import { keyFromId } from '../wire/daskKey.js';
import type { DaskComm } from '../wire/DaskComm.js';
import { IdentityPolicy } from './IdentityPolicy.js';
import {
  type DaskWorkerView,
  type PrefixStateCounts,
  type TaskStreamEntry,
  parseIdentity,
  parseNcores,
  parsePrefixStates,
  parseProcessing,
  parseTaskStatus,
  parseTaskStream,
  parseWhoHas,
} from './parseReplies.js';
import { type PendingCounts, countPending, pendingCandidates } from './pendingTasks.js';
import { PollFingerprint } from './PollFingerprint.js';
import { TaskStreamCursor } from './TaskStreamCursor.js';
import { RESTRICTION_DUMP_EXCLUDE, TaskRestrictions, isDumpRefusal, parseRestrictionDump } from './TaskRestrictions.js';
import type { ResourceTasks } from '@ebbtide/core';

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
  /** Whether this poll read `identity` (else `workers` are the last read's, less the workers gone). */
  identityRead: boolean;
  /** Tasks that need a resource, per resource (see `TaskRestrictions`); absent when none does. */
  resources?: Record<string, ResourceTasks>;
  /** Whether this poll read the tasks' restrictions (`get_cluster_state`). */
  restrictionsRead: boolean;
  /** Set on the poll whose `get_cluster_state` the scheduler refused: why (no more are asked for on this connection). */
  restrictionsRefused?: string;
  /** Whether anything the snapshot is built from differs from the previous poll's. */
  changed: boolean;
}

/** Queued and unrunnable counts are asked for again at least this often, even when nothing moved. */
const PENDING_REFRESH_S = 30;

/** What polls of one scheduler keep from one poll to the next. */
export class PollState {
  /** Position in the scheduler's task stream. */
  readonly cursor = new TaskStreamCursor();
  readonly identity = new IdentityPolicy();
  /** The tasks' resource restrictions, from the last `get_cluster_state` that was needed. */
  readonly restrictions = new TaskRestrictions();
  /** The workers of the last `identity` read. */
  views?: DaskWorkerView[];
  private taskLayer?: number;
  private workerLayer?: number;
  private pending?: { counts: PendingCounts; at: number };

  /** The next poll reads everything afresh (after a reconnect: possibly another scheduler process). */
  invalidate(): void {
    this.identity.invalidate();
    this.restrictions.invalidate();
    this.taskLayer = undefined;
    this.pending = undefined;
  }

  /**
   * The last poll's queued/unrunnable counts when they cannot have changed: nothing in the task
   * layer moved (same tasks and holders in `who_has`, same prefix counts, same processing and
   * running workers — a task leaves `queued` or `no-worker` only through one of those) and they
   * were asked for less than 30 s ago (for `set_restrictions` and the like, which show nowhere).
   */
  reusablePending(activity: boolean, now: number): PendingCounts | undefined {
    const p = this.pending;
    return !activity && p && now - p.at < PENDING_REFRESH_S ? p.counts : undefined;
  }

  statusChecked(counts: PendingCounts, now: number): void {
    this.pending = { counts, at: now };
  }

  /** Records this poll's task-layer fingerprint; true if it differs from the previous poll's. */
  taskLayerMoved(fp: number): boolean {
    const moved = fp !== this.taskLayer;
    this.taskLayer = fp;
    return moved;
  }

  /** Records the fingerprint of the workers read by `identity`; true if it differs. */
  workersMoved(fp: number): boolean {
    const moved = fp !== this.workerLayer;
    this.workerLayer = fp;
    return moved;
  }
}

/**
 * Reads the scheduler state one snapshot needs, asking each poll only for what may have changed.
 * Every poll: `processing` (also the worker list), `ncores_running` (which workers are running),
 * `who_has`, `get_task_prefix_states` (not when `who_has` lists no task), `get_task_status` (only
 * for the tasks of prefixes that have queued or unrunnable ones, and not when nothing in the task
 * layer moved since the last time: see `PollState.reusablePending`) and `get_task_stream` (a tail
 * read from the last entry seen; one entry when nothing completed). `identity`, which carries every worker's heartbeat metrics and
 * costs the scheduler more than all the others together at scale, only when `IdentityPolicy`
 * says its answer may have changed. `get_cluster_state` (the tasks' resource restrictions) only
 * when one may matter and is not known yet (see `readRestrictions`).
 *
 * The calls are not atomic: a task may move between two of them. Each count is exact for the
 * moment its call ran, and the next poll corrects any mismatch.
 *
 * @param clock seconds on the adapter's clock (for `IdentityPolicy`)
 * @throws EbbtideError `SCHEDULER_UNREACHABLE` / `SCHEDULER_PROTOCOL` from the comm or the parsers.
 */
export async function readPoll(comm: DaskComm, state: PollState, clock: () => number): Promise<RawPoll> {
  const processing = parseProcessing(await comm.call('processing'));
  const running = new Set(Object.keys(parseNcores(await comm.call('ncores_running'), 'ncores_running')));
  const whoHas = parseWhoHas(await comm.call('who_has'));
  let tasks = 0;
  for (const _ in whoHas) tasks++;
  // No task at all: no prefix has a state to count.
  const states = tasks > 0 ? parsePrefixStates(await comm.call('get_task_prefix_states')) : {};
  const processingIds = new Set<string>();
  for (const ids of processing.values()) for (const id of ids) processingIds.add(id);
  const fp = taskLayerFingerprint(processing, running, whoHas, states);
  const activity = state.taskLayerMoved(fp);
  const now = clock();
  let pending = state.reusablePending(activity, now);
  let statusQueried = 0;
  if (!pending) {
    const candidates = pendingCandidates(whoHas, processingIds, states);
    statusQueried = candidates.length;
    pending = candidates.length > 0 ? countPending(parseTaskStatus(await comm.call('get_task_status', { keys: candidates.map(keyFromId) }))) : new Map();
    state.statusChecked(pending, now);
  }
  const stream = await readStream(comm, state.cursor);
  const addresses = [...processing.keys()];
  let workers: DaskWorkerView[];
  let identityRead = false;
  if (!state.views || state.identity.mustRead({ now, addresses, running, activity: activity || stream.length > 0, busy: processingIds.size > 0 })) {
    workers = parseIdentity(await comm.call('identity'));
    state.identity.read(now, workers.map((w) => w.address));
    state.views = workers;
    identityRead = true;
  } else {
    const present = new Set(addresses);
    workers = state.views.filter((w) => present.has(w.address));
  }
  const workersMoved = state.workersMoved(workersFingerprint(workers));
  const { resources, read: restrictionsRead, refused } = await readRestrictions(comm, state.restrictions, workers, processing, pending, now);
  return {
    workers,
    processing,
    pending,
    stream,
    tasks,
    statusQueried,
    identityRead,
    ...(resources ? { resources } : {}),
    restrictionsRead,
    ...(refused ? { restrictionsRefused: refused } : {}),
    changed: activity || stream.length > 0 || workersMoved || restrictionsRead,
  };
}

/**
 * The tasks that need a resource. Only two kinds of task can: one processing on a worker that
 * offers resources (the scheduler places a restricted task nowhere else) and one unrunnable
 * (`no-worker`: no worker offers what it needs). Their restrictions are dumped
 * (`get_cluster_state`) only when `TaskRestrictions.mustRead` says so: never while no worker
 * offers resources and nothing is unrunnable.
 */
async function readRestrictions(
  comm: DaskComm,
  restrictions: TaskRestrictions,
  workers: readonly DaskWorkerView[],
  processing: ReadonlyMap<string, readonly string[]>,
  pending: PendingCounts,
  now: number,
): Promise<{ resources?: Record<string, ResourceTasks>; read: boolean; refused?: string }> {
  const onResourceWorkers: string[] = [];
  for (const w of workers) {
    if (Object.keys(w.resources).length > 0) onResourceWorkers.push(...(processing.get(w.address) ?? []));
  }
  const unrunnable: string[] = [];
  for (const c of pending.values()) if (c.unrunnableIds) unrunnable.push(...c.unrunnableIds);
  if (onResourceWorkers.length === 0 && unrunnable.length === 0) return { read: false };
  let read = false;
  let refused: string | undefined;
  if (restrictions.mustRead([...onResourceWorkers, ...unrunnable], now)) {
    try {
      const t0 = performance.now();
      const reply = await comm.call('get_cluster_state', { exclude: [...RESTRICTION_DUMP_EXCLUDE] });
      restrictions.learn(parseRestrictionDump(reply), now, (performance.now() - t0) / 1000);
      read = true;
    } catch (e) {
      // A scheduler that will not dump (handler removed, or raising) still gives everything
      // else: the poll goes on without restrictions rather than failing. A lost connection
      // fails the poll as for any call.
      if (!isDumpRefusal(e)) throw e;
      refused = e instanceof Error ? e.message : String(e);
      restrictions.refused(refused);
    }
  }
  const resources = restrictions.tally(onResourceWorkers, unrunnable);
  return { ...(resources ? { resources } : {}), read, ...(refused ? { refused } : {}) };
}

async function readStream(comm: DaskComm, cursor: TaskStreamCursor): Promise<TaskStreamEntry[]> {
  let { count } = cursor.args();
  for (;;) {
    const step = cursor.accept(parseTaskStream(await comm.call('get_task_stream', { count })), count);
    if ('fresh' in step) return step.fresh;
    count = step.retryCount;
  }
}

function taskLayerFingerprint(
  processing: ReadonlyMap<string, readonly string[]>,
  running: ReadonlySet<string>,
  whoHas: Readonly<Record<string, readonly string[]>>,
  states: PrefixStateCounts,
): number {
  const fp = new PollFingerprint();
  for (const [address, ids] of processing) {
    fp.add(address).addNumber(ids.length);
    for (const id of ids) fp.add(id);
  }
  fp.add('running');
  for (const a of running) fp.add(a);
  fp.add('who_has');
  for (const id in whoHas) {
    fp.add(id);
    for (const a of whoHas[id]!) fp.add(a);
  }
  fp.add(JSON.stringify(states));
  return fp.value;
}

/** Over the fields of `identity` that snapshots use (heartbeat times and other metrics change every heartbeat). */
function workersFingerprint(workers: readonly DaskWorkerView[]): number {
  const fp = new PollFingerprint();
  for (const w of workers) {
    fp.add(w.address).add(w.name).add(w.host).add(w.daskStatus).add(JSON.stringify(w.resources));
    fp.addNumber(w.nthreads).addNumber(w.memoryLimit).addNumber(w.managedBytes).addNumber(w.longRunning ?? -1).addNumber(w.executing ?? -1);
  }
  return fp.value;
}
