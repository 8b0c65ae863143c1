import { EbbtideError, type WorkerStatus } from '@ebbtide/core';
import { type DaskKey, keyId } from '../wire/daskKey.js';

/**
 * Typed views of the replies the adapter reads, checked once here so the rest of the code can
 * trust them. A reply of the wrong shape is a `SCHEDULER_PROTOCOL` error naming the op.
 */

/** One worker from `identity`, in the scheduler's iteration order. */
export interface DaskWorkerView {
  address: string;
  /** `str(ws.name)`: Dask names may be ints; we always compare them as strings, as Dask does. */
  name: string;
  host: string;
  nthreads: number;
  /** Bytes; 0 = no limit. */
  memoryLimit: number;
  /** `metrics.managed_bytes`: sizeof of the results the worker holds, from its last heartbeat. */
  managedBytes: number;
  status: WorkerStatus;
  /** Raw Dask status (`running`, `paused`, `closing_gracefully`, ...). */
  daskStatus: string;
  resources: Record<string, number>;
  /** `metrics.task_counts["long-running"]` (seceded tasks), from its last heartbeat; 0 when the state is left out. */
  longRunning?: number;
  /** `metrics.task_counts.executing`, from its last heartbeat. */
  executing?: number;
}

/** Per-prefix active state counts from `get_task_prefix_states` (no `queued`/`no-worker`, in 2022.12 and 2026.8). */
export type PrefixStateCounts = Record<string, { memory: number; erred: number; released: number; processing: number; waiting: number }>;

/** One completed task from `get_task_stream`. */
export interface TaskStreamEntry {
  key: DaskKey;
  status: string;
  worker: string;
  startstops: Array<{ action: string; start: number; stop: number }>;
}

function bad(op: string, why: string): EbbtideError {
  return new EbbtideError('SCHEDULER_PROTOCOL', `Dask scheduler replied to "${op}" with an unexpected shape: ${why}`, {
    key: 'scheduler.address',
    data: { op, retryable: false },
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function num(v: unknown, fallback = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Dask status names → ebbtide's three. Anything on its way out counts as `closing`. */
export function workerStatus(daskStatus: string): WorkerStatus {
  if (daskStatus === 'paused') return 'paused';
  if (daskStatus === 'running' || daskStatus === 'init' || daskStatus === 'starting' || daskStatus === 'created') return 'running';
  return 'closing';
}

/** Workers of an `identity` reply, in the order the scheduler lists them. */
export function parseIdentity(reply: unknown): DaskWorkerView[] {
  if (!isRecord(reply) || !isRecord(reply['workers'])) throw bad('identity', 'expected a map with "workers"');
  const out: DaskWorkerView[] = [];
  for (const [address, w] of Object.entries(reply['workers'])) {
    if (!isRecord(w)) throw bad('identity', `worker ${address} is not a map`);
    const metrics = isRecord(w['metrics']) ? w['metrics'] : {};
    const counts = isRecord(metrics['task_counts']) ? metrics['task_counts'] : undefined;
    const daskStatus = typeof w['status'] === 'string' ? w['status'] : 'running';
    const resources: Record<string, number> = {};
    if (isRecord(w['resources'])) for (const [k, v] of Object.entries(w['resources'])) resources[k] = num(v);
    const view: DaskWorkerView = {
      address,
      name: w['name'] === undefined || w['name'] === null ? address : String(w['name']),
      host: typeof w['host'] === 'string' ? w['host'] : hostOf(address),
      nthreads: num(w['nthreads']),
      memoryLimit: num(w['memory_limit']),
      managedBytes: num(metrics['managed_bytes']),
      status: workerStatus(daskStatus),
      daskStatus,
      resources,
    };
    // 2022.12 lists every state; newer workers send a Counter, which leaves out states with no task.
    if (counts) {
      view.longRunning = num(counts['long-running']);
      view.executing = num(counts['executing']);
    }
    out.push(view);
  }
  return out;
}

function hostOf(address: string): string {
  const m = /^[a-z]+:\/\/\[?([^\]]+?)\]?:\d+$/.exec(address);
  return m ? m[1]! : address;
}

/** `processing`: worker address → ids (see `keyId`) of the tasks assigned to it, long-running ones included. */
export function parseProcessing(reply: unknown): Map<string, string[]> {
  if (!isRecord(reply)) throw bad('processing', 'expected a map of worker address to task keys');
  const out = new Map<string, string[]>();
  for (const [address, keys] of Object.entries(reply)) {
    if (!Array.isArray(keys)) throw bad('processing', `tasks of ${address} are not a list`);
    out.set(address, (keys as DaskKey[]).map(keyId));
  }
  return out;
}

/** `ncores` / `ncores_running`: worker address → threads (only running workers for the latter). */
export function parseNcores(reply: unknown, op: string): Record<string, number> {
  if (!isRecord(reply)) throw bad(op, 'expected a map of worker address to threads');
  const out: Record<string, number> = {};
  for (const [address, n] of Object.entries(reply)) out[address] = num(n);
  return out;
}

/** `who_has` with no keys: every task the scheduler knows → addresses holding its result. */
export function parseWhoHas(reply: unknown): Record<string, string[]> {
  if (!isRecord(reply)) throw bad('who_has', 'expected a map of task key to worker addresses');
  for (const [k, v] of Object.entries(reply)) if (!Array.isArray(v)) throw bad('who_has', `holders of ${k} are not a list`);
  return reply as Record<string, string[]>;
}

export function parsePrefixStates(reply: unknown): PrefixStateCounts {
  if (!isRecord(reply)) throw bad('get_task_prefix_states', 'expected a map of prefix to state counts');
  const out: PrefixStateCounts = {};
  for (const [p, s] of Object.entries(reply)) {
    if (!isRecord(s)) throw bad('get_task_prefix_states', `counts of ${p} are not a map`);
    out[p] = { memory: num(s['memory']), erred: num(s['erred']), released: num(s['released']), processing: num(s['processing']), waiting: num(s['waiting']) };
  }
  return out;
}

/** `get_task_status`: task id → state name, or null when the scheduler forgot the task. */
export function parseTaskStatus(reply: unknown): Record<string, string | null> {
  if (!isRecord(reply)) throw bad('get_task_status', 'expected a map of task key to state');
  return reply as Record<string, string | null>;
}

export function parseTaskStream(reply: unknown): TaskStreamEntry[] {
  if (!Array.isArray(reply)) throw bad('get_task_stream', 'expected a list of task records');
  const out: TaskStreamEntry[] = [];
  for (const e of reply) {
    if (!isRecord(e) || e['key'] === undefined || !Array.isArray(e['startstops'])) continue;
    const startstops = (e['startstops'] as unknown[])
      .filter(isRecord)
      .map((s) => ({ action: String(s['action']), start: num(s['start'], NaN), stop: num(s['stop'], NaN) }))
      .filter((s) => Number.isFinite(s.start) && Number.isFinite(s.stop));
    out.push({ key: e['key'] as DaskKey, status: String(e['status'] ?? ''), worker: String(e['worker'] ?? ''), startstops });
  }
  return out;
}

/** `retire_workers`: address → identity of each worker actually retired. */
export function parseRetired(reply: unknown): Array<{ address: string; name: string }> {
  if (!isRecord(reply)) throw bad('retire_workers', 'expected a map of worker address to worker info');
  return Object.entries(reply).map(([address, info]) => ({
    address,
    name: isRecord(info) && info['name'] !== undefined && info['name'] !== null ? String(info['name']) : address,
  }));
}

/** `nbytes` with `summary=False`: task id → bytes. */
export function parseNbytes(reply: unknown): Record<string, number> {
  if (!isRecord(reply)) throw bad('nbytes', 'expected a map of task key to bytes');
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(reply)) out[k] = num(v);
  return out;
}

/** `has_what`: worker address → keys it holds. */
export function parseHasWhat(reply: unknown): Map<string, DaskKey[]> {
  if (!isRecord(reply)) throw bad('has_what', 'expected a map of worker address to task keys');
  const out = new Map<string, DaskKey[]>();
  for (const [address, keys] of Object.entries(reply)) {
    if (!Array.isArray(keys)) throw bad('has_what', `keys of ${address} are not a list`);
    out.set(address, keys as DaskKey[]);
  }
  return out;
}
