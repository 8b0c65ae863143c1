import { EbbtideError, type ResourceTasks, isEbbtideError } from '@ebbtide/core';
import { type DaskKey, keyId, prefixOfId } from '../wire/daskKey.js';

/**
 * Attribute names `get_cluster_state` leaves out, so its answer is only each task's `key` and
 * `resource_restrictions`. Dask's `exclude` applies by name at every level of the dump
 * (`recursive_to_dict`): the scheduler's own fields, every `TaskState`'s but those two, and the
 * workers' `dump_state` fields but `tasks` (which the scheduler's dump needs too, by the same
 * name). Names from 2022.12 and 2026.8; a name a release lacks is ignored by it.
 */
export const RESTRICTION_DUMP_EXCLUDE: readonly string[] = [
  // Scheduler (Server identity and SchedulerState)
  'address', 'clients', 'events', 'extensions', 'id', 'memory', 'n_workers', 'services', 'started', 'status', 'task_groups', 'thread_id',
  'total_memory', 'total_threads', 'transition_counter', 'transition_log', 'type', 'workers',
  // TaskState
  'actor', 'annotations', 'dependencies', 'dependents', 'erred_on', 'exception', 'exception_blame', 'exception_text', 'group', 'group_key',
  'has_lost_dependencies', 'host_restrictions', 'loose_restrictions', 'metadata', 'nbytes', 'prefix', 'priority', 'processing_on', 'retries',
  'run_id', 'run_spec', 'state', 'suspicious', 'traceback', 'traceback_text', 'waiters', 'waiting_on', 'who_has', 'who_wants', 'worker_restrictions',
  // Worker dump_state (and its TaskStates)
  'busy_workers', 'config', 'constrained', 'data', 'data_needed', 'executing', 'has_what', 'in_flight_tasks', 'in_flight_workers', 'log', 'logs',
  'long_running', 'max_spill', 'memory_limit', 'memory_monitor_interval', 'memory_pause_fraction', 'memory_spill_fraction', 'memory_target_fraction',
  'missing_dep_flight', 'nthreads', 'ready', 'running', 'scheduler', 'stimulus_log', 'task_counts', 'task_cumulative_elapsed',
  'transfer_incoming_log', 'transfer_outgoing_log', 'duration', 'start_time', 'span_id',
];

/** A dump's tasks: every task id it listed, and the restrictions of those that have any. */
export interface RestrictionDump {
  ids: Set<string>;
  restricted: Map<string, Record<string, number>>;
}

function bad(why: string): EbbtideError {
  return new EbbtideError('SCHEDULER_PROTOCOL', `Dask scheduler replied to "get_cluster_state" with an unexpected shape: ${why}`, {
    key: 'scheduler.address',
    data: { op: 'get_cluster_state', retryable: false },
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isKey(v: unknown): v is DaskKey {
  return typeof v === 'string' || typeof v === 'number' || (Array.isArray(v) && v.every(isKey));
}

/**
 * The tasks of a `get_cluster_state` reply (asked with `RESTRICTION_DUMP_EXCLUDE`). Each task is
 * read by its `key` field: the dump's map keys are `str(key)` for tuple keys. No restriction is
 * `{}` in 2022.12 and `None` in 2026.8; both mean none.
 */
export function parseRestrictionDump(reply: unknown): RestrictionDump {
  if (!isRecord(reply) || !isRecord(reply['scheduler'])) throw bad('expected a map with "scheduler"');
  const tasks = reply['scheduler']['tasks'];
  if (!isRecord(tasks)) throw bad('expected "scheduler.tasks" to be a map');
  const out: RestrictionDump = { ids: new Set(), restricted: new Map() };
  for (const [name, t] of Object.entries(tasks)) {
    if (!isRecord(t) || !isKey(t['key'])) throw bad(`task ${name} has no key`);
    const id = keyId(t['key']);
    out.ids.add(id);
    const r = t['resource_restrictions'];
    if (r === null || r === undefined) continue;
    if (!isRecord(r)) throw bad(`task ${name}: resource_restrictions is not a map`);
    const needs: Record<string, number> = {};
    for (const [resource, q] of Object.entries(r)) if (typeof q === 'number' && Number.isFinite(q) && q > 0) needs[resource] = q;
    if (Object.keys(needs).length) out.restricted.set(id, needs);
  }
  return out;
}

/** A new prefix is read at once; more unread tasks of known prefixes at most this often (seconds). */
export const RESTRICTIONS_REREAD_S = 10;

/**
 * No dump sooner than this many times the last one took after it: the dump walks every task's
 * attributes on the scheduler and has every worker dump its own (107 ms of scheduler CPU at
 * 2,000 tasks and 10 workers, 880 ms at 1,000 workers; bench/schedulerCpu.ts), so this keeps it
 * under about 1% of the scheduler's time at any size.
 */
export const DUMP_BUDGET_FACTOR = 100;

/**
 * What the polls know of tasks' resource restrictions. Dask exposes `TaskState.resource_restrictions`
 * over RPC only in `get_cluster_state`, a dump of the whole scheduler that also asks every worker
 * for its state. So it is asked only when a restriction may matter — for tasks that are
 * unrunnable (`no-worker`: no worker offers what they need) or processing on a worker that offers
 * resources (a restricted task can run nowhere else) — and only when one of those tasks was not
 * in the last dump: at once for a prefix no dump has shown yet, else at most every
 * `RESTRICTIONS_REREAD_S`; and never sooner than `DUMP_BUDGET_FACTOR` times the last dump's
 * duration after it. A cluster where no worker offers resources and nothing is unrunnable
 * never asks.
 *
 * A task in the last dump has its exact restrictions; a newer one is taken to need what the last
 * dumped task of its prefix needed (tasks of one prefix are one function, usually submitted
 * alike).
 */
export class TaskRestrictions {
  private dumped: RestrictionDump = { ids: new Set(), restricted: new Map() };
  /** Prefix → what its last dumped task needed (`null`: nothing). */
  private readonly byPrefix = new Map<string, Record<string, number> | null>();
  private lastRead = -Infinity;
  /** Seconds the last dump took (its wall time, which includes the scheduler's work). */
  private lastCost = 0;
  /** Why this scheduler cannot give restrictions (it refused `get_cluster_state`); then none is asked for. */
  unavailable?: string;

  /** Forgets everything (a reconnect: possibly another scheduler process). */
  invalidate(): void {
    this.dumped = { ids: new Set(), restricted: new Map() };
    this.byPrefix.clear();
    this.lastRead = -Infinity;
    this.lastCost = 0;
    delete this.unavailable;
  }

  /**
   * The scheduler refused the dump (a handler removed or failing): until the next reconnect no
   * dump is asked for, and tasks count as plain (what is known stays known).
   */
  refused(reason: string): void {
    this.unavailable = reason;
  }

  /** True when `candidates` (task ids whose restrictions matter now) call for a new dump at `now` (seconds). */
  mustRead(candidates: Iterable<string>, now: number): boolean {
    if (this.unavailable !== undefined) return false;
    const since = now - this.lastRead;
    if (since < DUMP_BUDGET_FACTOR * this.lastCost) return false;
    const due = since >= RESTRICTIONS_REREAD_S;
    for (const id of candidates) {
      if (this.dumped.ids.has(id)) continue;
      if (due || !this.byPrefix.has(prefixOfId(id))) return true;
    }
    return false;
  }

  /** Takes in a dump read at `now` that took `cost` seconds. */
  learn(dump: RestrictionDump, now: number, cost = 0): void {
    this.dumped = dump;
    this.lastRead = now;
    this.lastCost = cost;
    for (const id of dump.ids) this.byPrefix.set(prefixOfId(id), dump.restricted.get(id) ?? null);
  }

  /** What task `id` needs: exact if it was in the last dump, else its prefix's, else nothing. */
  of(id: string): Record<string, number> | undefined {
    if (this.dumped.ids.has(id)) return this.dumped.restricted.get(id);
    return this.byPrefix.get(prefixOfId(id)) ?? undefined;
  }

  /**
   * The snapshot's `resources`: per resource, the unrunnable (`waiting`) and processing tasks
   * that need it and their units per prefix; undefined when none does.
   */
  tally(processing: Iterable<string>, unrunnable: Iterable<string>): Record<string, ResourceTasks> | undefined {
    let out: Record<string, ResourceTasks> | undefined;
    const add = (id: string, kind: 'waiting' | 'processing'): void => {
      const needs = this.of(id);
      if (!needs) return;
      const prefix = prefixOfId(id);
      for (const [r, q] of Object.entries(needs)) {
        const t = ((out ??= {})[r] ??= { waiting: 0, processing: 0, units: {} });
        t[kind]++;
        t.units[prefix] = (t.units[prefix] ?? 0) + q;
      }
    };
    for (const id of processing) add(id, 'processing');
    for (const id of unrunnable) add(id, 'waiting');
    return out;
  }
}

/** True for an error that means "this scheduler will not give a dump" (not a lost connection). */
export function isDumpRefusal(e: unknown): boolean {
  return isEbbtideError(e) && e.code === 'SCHEDULER_PROTOCOL';
}
