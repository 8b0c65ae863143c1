import type { DecisionRecord } from '@ebbtide/core';

/** The columns of the chart: one value per tick, all the same length. */
export interface SeriesColumns {
  /** Clock seconds (epoch seconds in production). */
  t: number[];
  /** Workers connected to the scheduler. */
  observed: number[];
  /** Workers the backend accepted. */
  requested: number[];
  /** Workers planned. */
  plan: number[];
  /** The heuristic's target (manual: the asked-for count). */
  target: number[];
  /** After the bounds (and a capacity hold). */
  safeTarget: number[];
  /** Tasks waiting for a worker (queued + unrunnable). */
  queued: number[];
  /** Tasks on workers. */
  processing: number[];
}

const KEYS = ['t', 'observed', 'requested', 'plan', 'target', 'safeTarget', 'queued', 'processing'] as const;

/**
 * Workers and demand per tick for the page's chart, in a bounded ring of columns (cheap to
 * append, sent as uPlot's column arrays). Unlike the decision history, nothing is folded here.
 */
export class Series {
  private readonly cols: SeriesColumns = { t: [], observed: [], requested: [], plan: [], target: [], safeTarget: [], queued: [], processing: [] };

  constructor(readonly capacity = 3600) {}

  push(r: DecisionRecord): void {
    const i = r.inputs;
    if (!i || r.time === undefined) return;
    const row: Record<(typeof KEYS)[number], number> = {
      t: r.time,
      observed: i.workers,
      requested: i.requested,
      plan: i.plan,
      target: r.target,
      safeTarget: r.safeTarget,
      queued: i.tasksQueued + i.tasksUnrunnable,
      processing: i.tasksProcessing,
    };
    const drop = this.cols.t.length >= this.capacity;
    for (const k of KEYS) {
      if (drop) this.cols[k].shift();
      this.cols[k].push(row[k]);
    }
  }

  /** The points after clock second `t` (all by default). */
  since(t = -Infinity): SeriesColumns {
    let i = this.cols.t.length;
    while (i > 0 && this.cols.t[i - 1]! > t) i--;
    const out = {} as SeriesColumns;
    for (const k of KEYS) out[k] = this.cols[k].slice(i);
    return out;
  }
}
