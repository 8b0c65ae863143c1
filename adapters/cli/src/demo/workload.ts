import { expectedLoad, expectedSummarize, expectedTransform } from './tasks.js';

export type DemoTaskName = 'load' | 'transform' | 'summarize';

export interface DemoTask {
  fn: DemoTaskName;
  args: [number, number];
  /** Result the worker must return. */
  expected: unknown;
  /** Kept on the cluster across the idle gap and fetched at `fetchKeptAt`. */
  keep: boolean;
}

export interface DemoBurst {
  /** Seconds after the start. */
  at: number;
  tasks: DemoTask[];
}

export interface DemoWorkload {
  bursts: DemoBurst[];
  /** When the kept results are fetched, checked and released. */
  fetchKeptAt: number;
  /** Seconds: no work is submitted after this, so the cluster can drain to its minimum. */
  endsBy: number;
}

const expectedOf: Record<DemoTaskName, (i: number) => unknown> = {
  load: expectedLoad,
  transform: expectedTransform,
  summarize: expectedSummarize,
};

function tasks(fn: DemoTaskName, count: number, ms: number, keepEvery = 0, offset = 0): DemoTask[] {
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    return { fn, args: [i, ms] as [number, number], expected: expectedOf[fn](i), keep: keepEvery > 0 && k % keepEvery === 0 };
  });
}

/**
 * The built-in bursty workload for a demo of `duration` seconds: three bursts of different task
 * prefixes and durations with idle gaps between them, some results of the first burst kept
 * through the gaps and fetched later. Task durations scale with the duration (60 s = nominal);
 * everything is submitted and released by about 70 % of it so the cluster can shrink back.
 */
export function demoWorkload(duration: number): DemoWorkload {
  const s = duration / 60;
  const ms = (nominal: number) => Math.max(50, Math.round(nominal * s));
  return {
    bursts: [
      { at: 0, tasks: tasks('load', 48, ms(600), 6) },
      { at: 0.3 * duration, tasks: tasks('transform', 24, ms(1000)) },
      { at: 0.55 * duration, tasks: [...tasks('summarize', 16, ms(400)), ...tasks('load', 8, ms(600), 0, 100)] },
    ],
    fetchKeptAt: 0.68 * duration,
    endsBy: 0.7 * duration,
  };
}
