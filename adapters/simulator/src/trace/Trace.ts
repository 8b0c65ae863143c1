import { EbbtideError } from '@ebbtide/core';

/** One task of a workload: when a client submits it, how long it computes, what its result costs. */
export interface TraceTask {
  /** Submit time, seconds from the start of the trace (>= 0). */
  t: number;
  /** Unique task key. */
  key: string;
  /** Task prefix (Dask's `key_split`); the heuristic learns durations per prefix. */
  prefix: string;
  /** Compute time in seconds (>= 0). */
  duration: number;
  /** Size of the result in bytes (>= 0). */
  nbytes: number;
  /** Seconds the client keeps the result after it is computed; 0 = released at once. */
  holdFor: number;
  /** Resources one run needs (Dask's `resources={'GPU': 1}`): only workers of pools offering them run it. */
  resources?: Record<string, number>;
}

/** A workload to replay: tasks sorted by submit time. */
export interface Trace {
  version: 1;
  name: string;
  tasks: TraceTask[];
}

function nonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * Checks that a parsed value is a `Trace`: version 1, a name, tasks with the right fields,
 * unique keys, sorted by `t`.
 *
 * @param where names the source in error messages (a file path, "trace").
 * @throws EbbtideError `INPUT_INVALID` naming the first bad task and field.
 */
export function validateTrace(value: unknown, where = 'trace'): Trace {
  const fail = (what: string): never => {
    throw new EbbtideError('INPUT_INVALID', `${where}: ${what}`, {
      hint: 'a trace is {"version": 1, "name": "...", "tasks": [{"t", "key", "prefix", "duration", "nbytes", "holdFor"}, ...]} sorted by t',
    });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a trace object');
  const v = value as Record<string, unknown>;
  if (v.version !== 1) fail(`expected version 1, got ${JSON.stringify(v.version)}`);
  if (typeof v.name !== 'string') fail(`expected a string name, got ${JSON.stringify(v.name)}`);
  if (!Array.isArray(v.tasks)) return fail(`expected a tasks array, got ${JSON.stringify(v.tasks)}`);
  const keys = new Set<string>();
  let last = 0;
  v.tasks.forEach((task: unknown, i: number) => {
    if (typeof task !== 'object' || task === null) fail(`tasks[${i}]: expected an object`);
    const tk = task as Record<string, unknown>;
    if (typeof tk.key !== 'string' || tk.key === '') fail(`tasks[${i}].key: expected a non-empty string, got ${JSON.stringify(tk.key)}`);
    if (typeof tk.prefix !== 'string' || tk.prefix === '') fail(`tasks[${i}].prefix: expected a non-empty string, got ${JSON.stringify(tk.prefix)}`);
    for (const field of ['t', 'duration', 'nbytes', 'holdFor'] as const) {
      if (!nonNegative(tk[field])) fail(`tasks[${i}].${field}: expected a number >= 0, got ${JSON.stringify(tk[field])}`);
    }
    if (tk.resources !== undefined) {
      const r = tk.resources;
      if (typeof r !== 'object' || r === null || Array.isArray(r) || !Object.values(r).every((n) => typeof n === 'number' && Number.isFinite(n) && n > 0)) {
        fail(`tasks[${i}].resources: expected resources such as {"GPU": 1} (numbers > 0), got ${JSON.stringify(r)}`);
      }
    }
    if (keys.has(tk.key as string)) fail(`tasks[${i}].key: duplicate key "${String(tk.key)}"`);
    keys.add(tk.key as string);
    if ((tk.t as number) < last) fail(`tasks[${i}].t: tasks must be sorted by t, got ${String(tk.t)} after ${last}`);
    last = tk.t as number;
  });
  return value as Trace;
}
