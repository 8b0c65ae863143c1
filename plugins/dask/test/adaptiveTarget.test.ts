// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import type { TaskPrefixInfo, WorkerInfo } from '@ebbtide/core';
import type { DaskHeuristicSettings } from '../src/config.js';
import { makePrefix, makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import { adaptiveTarget } from '../src/adaptiveTarget.js';
import { MB, SYSTEM_MEMORY, daskContext, learnedPrefix, targetOf, workersNamed } from './helpers.js';

/*
 * Spec §3 (Scheduler.adaptive_target, main). Dask states are translated into snapshots:
 * queued / no-worker tasks are counts on their prefix, tasks a worker is processing are
 * `worker.processing[prefix]`, seceded tasks `worker.longRunning`, stored bytes `worker.nbytes`.
 * With worker-saturation 1.1 an empty cluster queues every task (any group is root-ish with 0
 * threads); with saturation inf the tasks are unrunnable.
 */

type Saturation = '1.1' | 'inf';
/** Where a prefix duration D comes from: Dask seeds a prefix with its configured default, or learns it. */
type DurationSource = 'default-task-durations' | 'learned durationAverage';

/** `n` tasks of prefix `block` waiting on the scheduler, with duration `d` (undefined = unknown, 0.5 s). */
function waitingBlock(n: number, saturation: Saturation, d: number | undefined, source: DurationSource, td: number) {
  const waiting = saturation === 'inf' ? { unrunnable: n } : { queued: n };
  const learned = d !== undefined && source === 'learned durationAverage';
  const prefix: TaskPrefixInfo = makePrefix({ ...waiting, ...(learned ? { durationAverage: d } : {}) });
  const ctx = daskContext({ targetDuration: td, ...(d !== undefined && !learned ? { defaultTaskDurations: { block: d } } : {}) });
  return { prefixes: { block: prefix }, ctx };
}

describe('adaptiveTarget — spec §3.6 verified numbers (main)', () => {
  describe('empty cluster, N tasks of prefix `block`', () => {
    const rows: Array<{ saturation: Saturation; n: number; d?: number; td5: number; td1: number }> = [
      { saturation: '1.1', n: 1, td5: 1, td1: 1 },
      { saturation: '1.1', n: 10, d: 1000, td5: 10, td1: 10 },
      { saturation: '1.1', n: 10, td5: 1, td1: 5 },
      { saturation: '1.1', n: 50, td5: 5, td1: 25 },
      { saturation: '1.1', n: 100, td5: 10, td1: 50 },
      { saturation: '1.1', n: 200, td5: 20, td1: 100 },
      { saturation: '1.1', n: 200, d: 1000, td5: 200, td1: 200 },
      { saturation: '1.1', n: 7, d: 2, td5: 3, td1: 7 },
      { saturation: 'inf', n: 1, td5: 1, td1: 1 },
      { saturation: 'inf', n: 10, d: 1000, td5: 10, td1: 10 },
      { saturation: 'inf', n: 10, td5: 1, td1: 5 },
      { saturation: 'inf', n: 50, td5: 5, td1: 25 },
      { saturation: 'inf', n: 100, td5: 10, td1: 50 },
      { saturation: 'inf', n: 200, td5: 20, td1: 100 },
      { saturation: 'inf', n: 200, d: 1000, td5: 200, td1: 200 },
    ];
    for (const row of rows) {
      const state = row.saturation === 'inf' ? 'unrunnable' : 'queued';
      const sources: DurationSource[] = row.d === undefined ? ['default-task-durations'] : ['default-task-durations', 'learned durationAverage'];
      for (const source of sources) {
        const dLabel = row.d === undefined ? 'D unknown (0.5 s)' : `D=${row.d} s via ${source}`;
        for (const [td, expected] of [
          [5, row.td5],
          [1, row.td1],
        ] as const) {
          it(`§3.6 main: empty cluster, saturation ${row.saturation}, N=${row.n}, ${dLabel}, ${row.n} ${state}, td ${td} s -> ${expected}`, () => {
            const { prefixes, ctx } = waitingBlock(row.n, row.saturation, row.d, source, td);
            expect(targetOf(makeSnapshot([], prefixes), ctx)).to.equal(expected);
          });
        }
      }
    }
  });

  describe('one worker with 5 threads, D = 1000 s', () => {
    const rows: Array<{ saturation: Saturation; n: number; processing: number; queued: number; occupancy: number; expected: number }> = [
      // 10 tasks are not root-ish (10 <= 2 x 5 threads): all processing.
      { saturation: '1.1', n: 10, processing: 10, queued: 0, occupancy: 10000, expected: 2 },
      // Root-ish: ceil(1.1 x 5) = 6 slots, the rest queued.
      { saturation: '1.1', n: 200, processing: 6, queued: 194, occupancy: 6000, expected: 40 },
      { saturation: 'inf', n: 10, processing: 10, queued: 0, occupancy: 10000, expected: 2 },
      { saturation: 'inf', n: 200, processing: 200, queued: 0, occupancy: 200000, expected: 40 },
    ];
    for (const row of rows) {
      for (const source of ['default-task-durations', 'learned durationAverage'] as const) {
        it(`§3.6 main: 1 worker 5 threads, saturation ${row.saturation}, N=${row.n}, ${row.processing} processing/${row.queued} queued (D via ${source}) -> ${row.expected}`, () => {
          const { prefixes, ctx } = waitingBlock(row.queued, row.saturation, 1000, source, 5);
          const w = makeWorker('w0', { nthreads: 5, processing: { block: row.processing } });
          const result = adaptiveTarget(makeSnapshot([w], prefixes), ctx);
          expect(result.target).to.equal(row.expected);
          expect(result.explanation.occupancy, 'total_occupancy').to.equal(row.occupancy);
        });
      }
    }
  });

  describe('two workers (1 and 2 threads), unknown durations, saturation 1.1', () => {
    const rows: Array<{ n: number; processing: [number, number]; queued: number; occupancy: number; td5: number; td01: number; td1: number }> = [
      { n: 1, processing: [1, 0], queued: 0, occupancy: 0.5, td5: 1, td01: 1, td1: 1 },
      { n: 3, processing: [1, 2], queued: 0, occupancy: 1.5, td5: 2, td01: 2, td1: 2 },
      // 6 <= 2 x 3 threads: not root-ish, all processing.
      { n: 6, processing: [2, 4], queued: 0, occupancy: 3.0, td5: 2, td01: 4, td1: 2 },
      // Root-ish: slots ceil(1.1 x 1) = 2 and ceil(1.1 x 2) = 3.
      { n: 30, processing: [2, 3], queued: 25, occupancy: 2.5, td5: 2, td01: 20, td1: 10 },
      { n: 300, processing: [2, 3], queued: 295, occupancy: 2.5, td5: 20, td01: 200, td1: 100 },
    ];
    for (const row of rows) {
      for (const [td, expected] of [
        [5, row.td5],
        [0.1, row.td01],
        [1, row.td1],
      ] as const) {
        it(`§3.6 main: 2 workers (1+2 threads), N=${row.n}, ${row.processing[0] + row.processing[1]} processing/${row.queued} queued, td ${td} s -> ${expected}`, () => {
          const workers = [
            makeWorker('w1', { nthreads: 1, processing: row.processing[0] ? { block: row.processing[0] } : {} }),
            makeWorker('w2', { nthreads: 2, processing: row.processing[1] ? { block: row.processing[1] } : {} }),
          ];
          const snapshot = makeSnapshot(workers, { block: makePrefix({ queued: row.queued }) });
          const result = adaptiveTarget(snapshot, daskContext({ targetDuration: td }));
          expect(result.target).to.equal(expected);
          expect(result.explanation.occupancy, 'total_occupancy').to.equal(row.occupancy);
        });
      }
    }
  });

  describe('memory rule (idle workers, memory_limit 1,000,000 each)', () => {
    const rows: Array<{ label: string; nbytes: number[]; expected: number }> = [
      { label: '2 workers, used 1,200,000 (all on one worker) is not > 60 %', nbytes: [1_200_000, 0], expected: 2 },
      { label: '2 workers, used 1,200,000 (split) is not > 60 %', nbytes: [600_000, 600_000], expected: 2 },
      { label: '2 workers, used 1,200,001 (all on one worker) doubles', nbytes: [1_200_001, 0], expected: 4 },
      { label: '2 workers, used 1,200,001 (split) doubles', nbytes: [600_001, 600_000], expected: 4 },
      { label: '3 workers, used 1,800,001 of 3,000,000 (all on one worker) doubles', nbytes: [1_800_001, 0, 0], expected: 6 },
      { label: '3 workers, used 1,800,001 of 3,000,000 (split) doubles', nbytes: [600_001, 600_000, 600_000], expected: 6 },
    ];
    for (const row of rows) {
      it(`§3.6 main memory rule: ${row.label} -> ${row.expected}`, () => {
        const workers = row.nbytes.map((nbytes, i) => makeWorker(`w${i}`, { memoryLimit: 1_000_000, nbytes }));
        expect(targetOf(makeSnapshot(workers))).to.equal(row.expected);
      });
    }
  });
});

describe('adaptiveTarget — spec §3.7 special cases', () => {
  it('§3.7 no workers, no tasks -> 0', () => {
    expect(targetOf(makeSnapshot([], { block: makePrefix() }))).to.equal(0);
  });

  const emptyWithWork: Array<{ label: string; prefix: TaskPrefixInfo; expected: number }> = [
    { label: '40 queued unknown tasks -> min(40, ceil(20/5)) = 4', prefix: makePrefix({ queued: 40 }), expected: 4 },
    { label: '40 unrunnable unknown tasks -> 4', prefix: makePrefix({ unrunnable: 40 }), expected: 4 },
    { label: '3 queued tasks of 1000 s -> capped at N = 3', prefix: learnedPrefix(1000, { queued: 3 }), expected: 3 },
    { label: '3 queued tasks of 0 s -> at least 1', prefix: learnedPrefix(0, { queued: 3 }), expected: 1 },
    { label: '2 queued + 2 unrunnable tasks of 0 s -> at least 1', prefix: learnedPrefix(0, { queued: 2, unrunnable: 2 }), expected: 1 },
  ];
  for (const row of emptyWithWork) {
    it(`§3.7 no workers, >= 1 queued/unrunnable task: ${row.label}`, () => {
      expect(targetOf(makeSnapshot([], { block: row.prefix }))).to.equal(row.expected);
    });
  }

  it('§3.7 all workers busy, low CPU estimate -> nW (never below busy workers)', () => {
    // 3 workers each running one 1 ms task: cpu = 1, but nothing is closable.
    const workers = ['w0', 'w1', 'w2'].map((n) => makeWorker(n, { memoryLimit: 100 * MB, processing: { quick: 1 } }));
    expect(targetOf(makeSnapshot(workers, { quick: learnedPrefix(0.001) }))).to.equal(3);
  });

  it('§3.7 some workers idle & empty -> nW - #idle closable, whatever the CPU estimate', () => {
    // 4 workers, 2 busy with 1 ms tasks: cpu = ceil(ceil(0.002/5) / 4 x 4) = 1, yet the answer is
    // the 2 workers that cannot be closed.
    const workers = [
      makeWorker('w0', { memoryLimit: 100 * MB, processing: { quick: 1 } }),
      makeWorker('w1', { memoryLimit: 100 * MB }),
      makeWorker('w2', { memoryLimit: 100 * MB, processing: { quick: 1 } }),
      makeWorker('w3', { memoryLimit: 100 * MB }),
    ];
    const result = adaptiveTarget(makeSnapshot(workers, { quick: learnedPrefix(0.001) }), daskContext());
    expect(result.explanation.cpu, 'cpu estimate').to.equal(1);
    expect(result.target).to.equal(2);
  });

  it('§3.7 memory > 60 % of total limit -> exactly 2 x nW when the CPU estimate is lower', () => {
    const workers = workersNamed(['w0', 'w1', 'w2'], { memoryLimit: 100 * MB, nbytes: 70 * MB });
    expect(targetOf(makeSnapshot(workers))).to.equal(6);
  });

  it('§3.7 memory > 60 % of total limit -> the CPU estimate when it exceeds 2 x nW (>= 2 x nW)', () => {
    // 3 one-thread workers, each 70 % full and running one 1 s task, 27 more queued, td 1 s:
    // cpu = ceil(30 / 1) = 30 (30 tasks, 1 thread per worker) > memory's 2 x 3 = 6.
    const workers = workersNamed(['w0', 'w1', 'w2'], { memoryLimit: 100 * MB, nbytes: 70 * MB, processing: { block: 1 } });
    const snapshot = makeSnapshot(workers, { block: learnedPrefix(1, { queued: 27 }) });
    expect(targetOf(snapshot, daskContext({ targetDuration: 1 }))).to.equal(30);
  });

  it('§3.7 all memory_limit = 0: the memory rule is off (no doubling however much is stored)', () => {
    const workers = workersNamed(['w0', 'w1', 'w2'], { memoryLimit: 0, nbytes: 10 * 1024 ** 3 });
    expect(targetOf(makeSnapshot(workers))).to.equal(3);
  });

  it('§3.7 all memory_limit = 0 and any data stored: idle workers are never closable -> target stays nW', () => {
    const workers = [makeWorker('w0', { nbytes: 1 }), makeWorker('w1'), makeWorker('w2')];
    expect(targetOf(makeSnapshot(workers))).to.equal(3);
  });

  it('§3.7 all memory_limit = 0 and no data: idle workers are closable -> 0', () => {
    expect(targetOf(makeSnapshot(workersNamed(['w0', 'w1', 'w2'])))).to.equal(0);
  });

  it('§3.7 long-running tasks: their workers are never closable', () => {
    // A runs a seceded task (no occupancy), B is idle: only B can go.
    const workers = [makeWorker('A', { memoryLimit: 100 * MB, longRunning: 1 }), makeWorker('B', { memoryLimit: 100 * MB })];
    const result = adaptiveTarget(makeSnapshot(workers), daskContext());
    expect(result.explanation.occupancy, 'seceded tasks add no occupancy').to.equal(0);
    expect(result.target).to.equal(1);
  });

  it('§3.7 long-running tasks: counted in the task cap', () => {
    // 1 thread, 1 task of 1000 s processing + 3 seceded: cpu = ceil(1000/5) = 200, capped at
    // 1 + 3 = 4 tasks (not 1), then ceil(4/1 x 1) = 4.
    const w = makeWorker('w0', { memoryLimit: 100 * MB, processing: { big: 1 }, longRunning: 3 });
    const result = adaptiveTarget(makeSnapshot([w], { big: learnedPrefix(1000) }), daskContext());
    expect(result.explanation.occupancy, 'only the non-seceded task').to.equal(1000);
    expect(result.target).to.equal(4);
  });

  it('§3.7 a single long task with huge duration: cpu capped at the number of tasks (1 task of 1000 s -> 1)', () => {
    expect(targetOf(makeSnapshot([], { big: learnedPrefix(1000, { queued: 1 }) }))).to.equal(1);
    const w = makeWorker('w0', { nthreads: 2, memoryLimit: 100 * MB, processing: { big: 1 } });
    expect(targetOf(makeSnapshot([w], { big: learnedPrefix(1000) }))).to.equal(1);
  });
});

describe('adaptiveTarget — spec §7 scheduler scenarios', () => {
  describe('T25 test_scale_up_large_tasks (no workers, default slowinc = 1000 s)', () => {
    for (const saturation of ['1.1', 'inf'] as const) {
      for (const [n, expected] of [
        [10, 10],
        [200, 200],
      ] as const) {
        it(`T25 test_scale_up_large_tasks[${saturation}]: ${n} tasks -> ${expected}`, () => {
          const waiting = saturation === 'inf' ? { unrunnable: n } : { queued: n };
          const ctx = daskContext({ defaultTaskDurations: { slowinc: 1000 } });
          expect(targetOf(makeSnapshot([], { slowinc: makePrefix(waiting) }), ctx)).to.equal(expected);
        });
      }
    }
  });

  describe('T26 test_respect_average_nthreads (one 5-thread worker, default slowinc = 1000 s)', () => {
    const ctx = daskContext({ defaultTaskDurations: { slowinc: 1000 } });
    it('T26 test_respect_average_nthreads: 10 tasks (all processing) -> 2', () => {
      const w = makeWorker('w', { nthreads: 5, processing: { slowinc: 10 } });
      expect(targetOf(makeSnapshot([w], { slowinc: makePrefix() }), ctx)).to.equal(2);
    });
    it('T26 test_respect_average_nthreads: 200 tasks (6 processing / 194 queued) -> 40', () => {
      const w = makeWorker('w', { nthreads: 5, processing: { slowinc: 6 } });
      expect(targetOf(makeSnapshot([w], { slowinc: makePrefix({ queued: 194 }) }), ctx)).to.equal(40);
    });
  });

  describe('T33 test_adaptive_target (2 workers 1+2 threads, default slowinc = 10 s)', () => {
    const ctx = (td = 5): DaskHeuristicSettings => daskContext({ targetDuration: td, defaultTaskDurations: { slowinc: 10 } });
    const cluster = (a: Partial<WorkerInfo> = {}, b: Partial<WorkerInfo> = {}) => [
      makeWorker('a', { nthreads: 1, memoryLimit: SYSTEM_MEMORY, ...a }),
      makeWorker('b', { nthreads: 2, memoryLimit: SYSTEM_MEMORY, ...b }),
    ];

    it('T33 test_adaptive_target: idle -> 0', () => {
      expect(targetOf(makeSnapshot(cluster()), ctx())).to.equal(0);
    });

    for (const holder of ['a', 'b'] as const) {
      it(`T33 test_adaptive_target: inc(1) computed and held on ${holder} -> 1 (the empty worker closes, the holder stays)`, () => {
        const held = { nbytes: 28 }; // sizeof(2)
        const workers = holder === 'a' ? cluster(held) : cluster({}, held);
        expect(targetOf(makeSnapshot(workers, { inc: learnedPrefix(0.001) }), ctx())).to.equal(1);
      });
    }

    for (const runner of ['a', 'b'] as const) {
      it(`T33 test_adaptive_target: one slowinc processing on ${runner}, td 0.1 s -> 1 (cpu 100 capped to 1 task)`, () => {
        const busy = { processing: { slowinc: 1 } };
        const workers = runner === 'a' ? cluster(busy) : cluster({}, busy);
        expect(targetOf(makeSnapshot(workers, { slowinc: makePrefix() }), ctx(0.1))).to.equal(1);
      });
    }

    it('T33 test_adaptive_target: plus 100 slowinc(0.5), td 0.1 s -> 10 < target <= 100', () => {
      // The long task plus 1 more fill a's ceil(1.1) = 2 slots, b takes ceil(2.2) = 3, 96 queued:
      // cpu = ceil((5 x 10 + 96 x 10) / 0.1) = 10100, capped at 101 tasks, ceil(101/3 x 2) = 68.
      const workers = cluster({ processing: { slowinc: 2 } }, { processing: { slowinc: 3 } });
      const t = targetOf(makeSnapshot(workers, { slowinc: makePrefix({ queued: 96 }) }), ctx(0.1));
      expect(t).to.be.greaterThan(10).and.at.most(100);
      expect(t).to.equal(68);
    });

    it('T33 test_adaptive_target: after everything is released -> 0', () => {
      expect(targetOf(makeSnapshot(cluster(), { slowinc: learnedPrefix(0.5) }), ctx(0.1))).to.equal(0);
    });
  });

  describe('T34 test_adaptive_target_empty_cluster', () => {
    for (const queue of [true, false]) {
      const state = queue ? 'queued' : 'unrunnable';
      it(`T34 test_adaptive_target_empty_cluster[queue=${queue}]: no workers, no tasks -> 0`, () => {
        expect(targetOf(makeSnapshot([], {}))).to.equal(0);
      });
      it(`T34 test_adaptive_target_empty_cluster[queue=${queue}]: one ${state} task -> 1`, () => {
        expect(targetOf(makeSnapshot([], { inc: makePrefix(queue ? { queued: 1 } : { unrunnable: 1 }) }))).to.equal(1);
      });
    }
    it('T34 test_adaptive_target_empty_cluster[queue=true]: 100 queued tasks -> > 1 (main: ceil(100 x 0.5 / 5) = 10)', () => {
      const t = targetOf(makeSnapshot([], { inc: makePrefix({ queued: 100 }) }));
      expect(t).to.be.greaterThan(1);
      expect(t).to.equal(10);
    });
  });

  it('T57 http test_adaptive_target: idle 2-worker cluster -> {"workers": 0}', () => {
    const workers = [makeWorker('a', { nthreads: 1, memoryLimit: SYSTEM_MEMORY }), makeWorker('b', { nthreads: 2, memoryLimit: SYSTEM_MEMORY })];
    expect(targetOf(makeSnapshot(workers))).to.equal(0);
  });
});

describe('the deliberate deviation: queued work summed exactly per prefix', () => {
  it('100 tasks of 1000 s queued with 50 of 0.5 s count as 100,025 s of work (Dask samples 100 and scales to 150,000 s)', async () => {
    const { adaptiveTarget } = await import('../src/adaptiveTarget.js');
    const { makeSnapshot, makePrefix } = await import('@ebbtide/core/testing');
    const r = adaptiveTarget(
      makeSnapshot([], { long: makePrefix({ durationAverage: 1000, queued: 100 }), short: makePrefix({ durationAverage: 0.5, queued: 50 }) }),
      { targetDuration: 5, unknownTaskDuration: 0.5, defaultTaskDurations: {} },
    );
    expect(r.explanation.queuedOccupancy).to.equal(100_025);
    // ceil(100025 / 5) = 20005, capped by the 150 tasks.
    expect(r.target).to.equal(150);
  });
});
