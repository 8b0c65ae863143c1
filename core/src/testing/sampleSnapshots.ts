import type { SchedulerSnapshot } from '../contracts/SchedulerSnapshot.js';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import { makePrefix, makeSnapshot, makeWorker } from './fakes.js';

const MB = 1_000_000;

/** A seeded generator in [0, 1) (mulberry32), so sample states and random test sequences repeat in every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random but repeatable cluster: idle and busy workers, long-running tasks, held data, two hosts and two jobs. */
export function randomSnapshot(seed: number, workers = 12): SchedulerSnapshot {
  const rnd = seeded(seed);
  const list: WorkerInfo[] = [];
  for (let i = 0; i < workers; i++) {
    const busy = rnd() < 0.4;
    list.push(
      makeWorker(`w-${i}`, {
        host: `host-${i % 3}`,
        nthreads: 1 + Math.floor(rnd() * 4),
        memoryLimit: 1000 * MB,
        nbytes: rnd() < 0.5 ? Math.floor(rnd() * 300 * MB) : 0,
        processing: busy ? { inc: 1 + Math.floor(rnd() * 3) } : {},
        longRunning: rnd() < 0.15 ? 1 : 0,
        labels: { job: `job-${i % 2}` },
      }),
    );
  }
  const prefixes = {
    inc: makePrefix({ durationAverage: 0.5 + rnd() * 3, queued: Math.floor(rnd() * 50), unrunnable: rnd() < 0.3 ? 3 : 0 }),
    load: makePrefix({ queued: Math.floor(rnd() * 10) }),
  };
  return makeSnapshot(list, prefixes, 1000 + seed);
}

/**
 * States every decision plugin should handle: an empty cluster, idle workers, a burst queued on
 * an empty cluster, busy workers, results held, long-running tasks, and random mixes.
 */
export function sampleSnapshots(): Array<{ name: string; snapshot: SchedulerSnapshot }> {
  return [
    { name: 'an empty cluster, no work', snapshot: makeSnapshot() },
    { name: 'work queued on an empty cluster', snapshot: makeSnapshot([], { inc: makePrefix({ queued: 100 }) }) },
    { name: 'three idle workers', snapshot: makeSnapshot([makeWorker('a-0'), makeWorker('a-1'), makeWorker('a-2')]) },
    {
      name: 'busy workers with queued work',
      snapshot: makeSnapshot(
        [makeWorker('b-0', { processing: { inc: 2 } }), makeWorker('b-1', { processing: { inc: 1 } })],
        { inc: makePrefix({ durationAverage: 2, queued: 40 }) },
      ),
    },
    {
      name: 'idle workers holding results',
      snapshot: makeSnapshot([
        makeWorker('c-0', { memoryLimit: 100 * MB, nbytes: 70 * MB }),
        makeWorker('c-1', { memoryLimit: 100 * MB, nbytes: 0 }),
        makeWorker('c-2', { memoryLimit: 100 * MB, nbytes: 10 * MB }),
      ]),
    },
    {
      name: 'a long-running task on an otherwise idle cluster',
      snapshot: makeSnapshot([makeWorker('d-0', { longRunning: 1 }), makeWorker('d-1'), makeWorker('d-2')]),
    },
    ...[1, 2, 3, 4].map((seed) => ({ name: `a random mix (seed ${seed})`, snapshot: randomSnapshot(seed) })),
  ];
}
