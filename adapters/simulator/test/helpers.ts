import type { EbbtidePlugin } from '@ebbtide/core';
import daskPlugin from '@ebbtide/plugin-dask';
import type { Trace, TraceTask } from '../src/trace/Trace.js';
import type { VirtualClock } from '../src/sim/VirtualClock.js';

/** The built-in plugins a simulation in these tests runs with: Dask's defaults. */
export const plugins: EbbtidePlugin[] = [daskPlugin];
/** The roles those plugins fill (the core names none): Dask's heuristic and strategy, no grouping. */
export const defaults = { heuristic: 'dask', workersToClose: 'dask', workerKey: 'none' };
/** `plugins` and `defaults` together, to spread into simulate() options. */
export const dask = { plugins, defaults };

/** `n` tasks of one prefix submitted together. */
export function burst(n: number, at: number, prefix: string, fields: Partial<TraceTask> = {}, from = 0): TraceTask[] {
  return Array.from({ length: n }, (_, i) => ({ t: at, key: `${prefix}-${from + i}`, prefix, duration: 1, nbytes: 0, holdFor: 0, ...fields }));
}

export function traceOf(tasks: TraceTask[], name = 'test'): Trace {
  return { version: 1, name, tasks: [...tasks].sort((a, b) => a.t - b.t) };
}

/** Drives a clock to `untilMs` the way `simulate` does: due actions, then promise continuations. */
export async function runClock(clock: VirtualClock, untilMs: number): Promise<void> {
  for (;;) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextTime;
    if (next === undefined || next > untilMs) break;
    clock.runUntil(next);
  }
  clock.runUntil(untilMs);
  await new Promise((r) => setImmediate(r));
}
