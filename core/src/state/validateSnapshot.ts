import type { SnapshotFile } from '../contracts/SchedulerSnapshot.js';
import type { TaskPrefixInfo } from '../contracts/TaskPrefixInfo.js';
import { WORKER_STATUSES, type WorkerInfo, type WorkerStatus } from '../contracts/WorkerInfo.js';
import { EbbtideError } from '../errors.js';

class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(field, `expected an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

function num(o: Record<string, unknown>, k: string, field: string, opts: { min?: number; integer?: boolean } = {}): number {
  if (!(k in o)) throw new FieldError(`${field}${k}`, 'missing');
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(`${field}${k}`, `expected a number, got ${show(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw new FieldError(`${field}${k}`, `expected a whole number, got ${show(v)}`);
  if (opts.min !== undefined && v < opts.min) throw new FieldError(`${field}${k}`, `expected a number >= ${opts.min}, got ${show(v)}`);
  return v;
}

function str(o: Record<string, unknown>, k: string, field: string): string {
  if (!(k in o)) throw new FieldError(`${field}${k}`, 'missing');
  const v = o[k];
  if (typeof v !== 'string') throw new FieldError(`${field}${k}`, `expected a string, got ${show(v)}`);
  return v;
}

function nameList(o: Record<string, unknown>, k: string): string[] | undefined {
  if (!(k in o) || o[k] === undefined) return undefined;
  const v = o[k];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new FieldError(k, `expected a list of worker names, got ${show(v)}`);
  return v as string[];
}

function worker(v: unknown, i: number): WorkerInfo {
  const f = `workers[${i}].`;
  const o = obj(v, `workers[${i}]`);
  const processingRaw = obj(o.processing === undefined ? undefined : o.processing, `${f}processing`);
  const processing: Record<string, number> = {};
  for (const [p, n] of Object.entries(processingRaw)) processing[p] = num(processingRaw, p, `${f}processing.`, { min: 0, integer: true });
  const status = str(o, 'status', f);
  if (!(WORKER_STATUSES as readonly string[]).includes(status)) {
    throw new FieldError(`${f}status`, `expected one of ${WORKER_STATUSES.join(', ')}, got ${show(status)}`);
  }
  const labelsRaw = o.labels === undefined ? {} : obj(o.labels, `${f}labels`);
  const labels: Record<string, string> = {};
  for (const k of Object.keys(labelsRaw)) labels[k] = str(labelsRaw, k, `${f}labels.`);
  const w: WorkerInfo = {
    name: str(o, 'name', f),
    address: str(o, 'address', f),
    host: str(o, 'host', f),
    nthreads: num(o, 'nthreads', f, { min: 0, integer: true }),
    memoryLimit: num(o, 'memoryLimit', f, { min: 0 }),
    nbytes: num(o, 'nbytes', f, { min: 0 }),
    processing,
    longRunning: num(o, 'longRunning', f, { min: 0, integer: true }),
    status: status as WorkerStatus,
    labels,
  };
  if (o.resources !== undefined) {
    const r = obj(o.resources, `${f}resources`);
    w.resources = Object.fromEntries(Object.keys(r).map((k) => [k, num(r, k, `${f}resources.`)]));
  }
  return w;
}

function prefix(v: unknown, name: string): TaskPrefixInfo {
  const f = `prefixes.${name}.`;
  const o = obj(v, `prefixes.${name}`);
  return {
    durationAverage: num(o, 'durationAverage', f),
    maxExecTime: num(o, 'maxExecTime', f),
    queued: num(o, 'queued', f, { min: 0, integer: true }),
    unrunnable: num(o, 'unrunnable', f, { min: 0, integer: true }),
  };
}

/**
 * Checks a parsed snapshot file (DESIGN §8) and returns it typed.
 *
 * @throws EbbtideError `INPUT_INVALID` whose message names the field (`workers[2].nthreads:
 *   missing`) and whose `data.field` holds it.
 */
export function validateSnapshot(value: unknown): SnapshotFile {
  try {
    const o = obj(value, 'snapshot');
    const workersRaw = o.workers;
    if (!Array.isArray(workersRaw)) throw new FieldError('workers', workersRaw === undefined ? 'missing' : `expected a list, got ${show(workersRaw)}`);
    const workers = workersRaw.map(worker);
    const seen = new Set<string>();
    workers.forEach((w, i) => {
      if (seen.has(w.name)) throw new FieldError(`workers[${i}].name`, `duplicate worker name ${show(w.name)}`);
      seen.add(w.name);
    });
    if (!('prefixes' in o)) throw new FieldError('prefixes', 'missing');
    const prefixesRaw = obj(o.prefixes, 'prefixes');
    const prefixes: Record<string, TaskPrefixInfo> = {};
    for (const [k, v] of Object.entries(prefixesRaw)) prefixes[k] = prefix(v, k);
    const out: SnapshotFile = { time: num(o, 'time', ''), workers, prefixes };
    const plan = nameList(o, 'plan');
    const requested = nameList(o, 'requested');
    if (plan) out.plan = plan;
    if (requested) out.requested = requested;
    if (o.resources !== undefined) {
      // Tasks that need a resource, per resource (see SchedulerSnapshot.resources).
      const rs = obj(o.resources, 'resources');
      out.resources = {};
      for (const [r, v] of Object.entries(rs)) {
        const t = obj(v, `resources.${r}`);
        const units = obj(t.units ?? {}, `resources.${r}.units`);
        out.resources[r] = {
          waiting: num(t, 'waiting', `resources.${r}.`, { min: 0, integer: true }),
          processing: num(t, 'processing', `resources.${r}.`, { min: 0, integer: true }),
          units: Object.fromEntries(Object.keys(units).map((k) => [k, num(units, k, `resources.${r}.units.`, { min: 0 })])),
        };
      }
    }
    if (o.closeCounts !== undefined) {
      const cc = obj(o.closeCounts, 'closeCounts');
      out.closeCounts = Object.fromEntries(Object.keys(cc).map((k) => [k, num(cc, k, 'closeCounts.', { min: 0, integer: true })]));
    }
    return out;
  } catch (e) {
    if (e instanceof FieldError) {
      throw new EbbtideError('INPUT_INVALID', `${e.field}: ${e.message}`, { data: { field: e.field } });
    }
    throw e;
  }
}
