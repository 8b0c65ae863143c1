// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import type { WorkerInfo } from '@ebbtide/core';
import { makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import { DaskWorkersToClose } from '../src/DaskWorkersToClose.js';
import { selectWorkersToClose } from '../src/selectWorkersToClose.js';
import { LabelWorkerKey, NoneWorkerKey } from '../src/workerKeys.js';
import { MB, SYSTEM_MEMORY, targetOf } from './helpers.js';

/*
 * Spec §4 (Scheduler.workers_to_close). Every case runs against the pure function and against the
 * `workersToClose: dask` class (with `workerKey: none`, or `label:group` where the spec groups
 * workers), since the class is what the adaptive loop calls.
 */

/** The arguments of one Dask call, e.g. `(target=1)`; `grouped` = `key` by the `group` label. */
interface Call {
  n?: number;
  target?: number;
  minimum?: number;
  memoryRatio?: number;
  grouped?: boolean;
}

const IMPLEMENTATIONS: Array<{ label: string; close(workers: WorkerInfo[], call: Call): string[] }> = [
  {
    label: 'selectWorkersToClose',
    close: (workers, { grouped, ...query }) => selectWorkersToClose(workers, grouped ? { ...query, key: (w) => w.labels.group! } : query),
  },
  {
    label: 'DaskWorkersToClose',
    close: (workers, { grouped, ...query }) =>
      new DaskWorkersToClose({}).select(makeSnapshot(workers), { ...query, key: grouped ? new LabelWorkerKey('group') : new NoneWorkerKey() }),
  },
];

/** Dask's spelling of a call, for test names. */
function dask(call: Call): string {
  const args = [
    ...(call.grouped ? ['key'] : []),
    ...(call.memoryRatio !== undefined ? [`memory_ratio=${call.memoryRatio}`] : []),
    ...(call.n !== undefined ? [`n=${call.n}`] : []),
    ...(call.minimum !== undefined ? [`minimum=${call.minimum}`] : []),
    ...(call.target !== undefined ? [`target=${call.target}`] : []),
  ];
  return `(${args.join(', ')})`;
}

/** The probe's registration order: the worker named 1 registered first, then 0, then 2. */
const REGISTRATION = ['1', '0', '2'] as const;

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe('selectWorkersToClose — spec §4.6 verified examples (3 workers, 1 thread, registration order [1, 0, 2])', () => {
  for (const impl of IMPLEMENTATIONS) {
    describe(impl.label, () => {
      describe('3 idle, no data, limits 100 MB', () => {
        const workers = () => REGISTRATION.map((name) => makeWorker(name, { memoryLimit: 100 * MB }));
        const rows: Array<{ call: Call; expected: string[]; why: string }> = [
          { call: {}, expected: ['2', '0', '1'], why: 'all 3, in reverse registration order' },
          { call: { n: 1 }, expected: ['2'], why: 'the last registered' },
          { call: { target: 1 }, expected: ['2', '0'], why: 'the two last registered' },
          { call: { minimum: 2 }, expected: ['2'], why: 'keeps 2' },
          { call: { n: 5 }, expected: ['2', '0', '1'], why: 'all 3' },
          { call: { n: 0 }, expected: [], why: 'nothing asked' },
          { call: { target: 5 }, expected: [], why: 'target above the worker count' },
        ];
        for (const { call, expected, why } of rows) {
          it(`§4.6 idle no data ${dask(call)} -> [${expected.join(', ')}] (${why})`, () => {
            expect(impl.close(workers(), call)).to.deep.equal(expected);
          });
        }
      });

      // Spec results are by role; every assignment of the data to the registration order must
      // give the same roles.
      const DATA_ROLES = { '0 B': 0, '10 MB': 10 * MB, '20 MB': 20 * MB } as const;
      type Role = keyof typeof DATA_ROLES;
      const dataRows: Array<{ limit: number; call: Call; expected: Role[] }> = [
        { limit: 100 * MB, call: {}, expected: ['0 B', '10 MB'] }, // 300 -> 200 -> 100 >= 60; 0 >= 60 fails
        { limit: 100 * MB, call: { target: 1 }, expected: ['0 B', '10 MB'] },
        { limit: 100 * MB, call: { target: 2 }, expected: ['0 B'] },
        { limit: 100 * MB, call: { memoryRatio: 1, n: 1 }, expected: ['0 B', '10 MB'] }, // OR: closes 2 > n
        { limit: 25 * MB, call: {}, expected: [] }, // 75 - 25 = 50 < 60
        { limit: 25 * MB, call: { target: 1 }, expected: ['0 B', '10 MB'] }, // memory ignored in n mode
        { limit: 25 * MB, call: { memoryRatio: 1 }, expected: ['0 B'] },
      ];
      for (const roles of permutations(Object.keys(DATA_ROLES) as Role[])) {
        const holders = REGISTRATION.map((name, i) => ({ name, role: roles[i]! }));
        const nameOf = (role: Role) => holders.find((h) => h.role === role)!.name;
        const layout = holders.map((h) => `${h.name}:${h.role}`).join(', ');
        describe(`data 0 / 10 / 20 MB held as [${layout}]`, () => {
          for (const { limit, call, expected } of dataRows) {
            it(`§4.6 data 0/10/20 MB, limits ${limit / MB} MB ${dask(call)} -> [${expected.join(', ')}]`, () => {
              const workers = holders.map((h) => makeWorker(h.name, { memoryLimit: limit, nbytes: DATA_ROLES[h.role] }));
              expect(impl.close(workers, call)).to.deep.equal(expected.map(nameOf));
            });
          }
        });
      }

      describe('one worker busy (no data, limits 100 MB)', () => {
        // Idle ones first (reverse registration order among equals), then the busy one.
        const rows: Array<{ busy: string; idle: string[] }> = [
          { busy: '1', idle: ['2', '0'] },
          { busy: '0', idle: ['2', '1'] },
          { busy: '2', idle: ['0', '1'] },
        ];
        for (const { busy, idle } of rows) {
          const workers = () => REGISTRATION.map((name) => makeWorker(name, { memoryLimit: 100 * MB, processing: name === busy ? { slowinc: 1 } : {} }));
          it(`§4.6 one worker busy (${busy}) () -> the 2 idle ones [${idle.join(', ')}]`, () => {
            expect(impl.close(workers(), {})).to.deep.equal(idle);
          });
          for (const call of [{ n: 3 }, { target: 0 }]) {
            it(`§4.6 one worker busy (${busy}) ${dask(call)} -> idle ones then the busy one [${[...idle, busy].join(', ')}]`, () => {
              expect(impl.close(workers(), call)).to.deep.equal([...idle, busy]);
            });
          }
        }
      });

      describe('all 3 busy', () => {
        const workers = () => REGISTRATION.map((name) => makeWorker(name, { memoryLimit: 100 * MB, processing: { slowinc: 1 } }));
        it('§4.6 all 3 busy () -> []', () => {
          expect(impl.close(workers(), {})).to.deep.equal([]);
        });
        it('§4.6 all 3 busy (n=1) -> [2] (the last-registered busy worker)', () => {
          expect(impl.close(workers(), { n: 1 })).to.deep.equal(['2']);
        });
      });

      describe('4 workers, groups a = {1st, 2nd}, b = {3rd, 4th}, limits 100 MB', () => {
        const grouped = (nbytes: Record<string, number> = {}) =>
          ['a-1', 'a-2', 'b-1', 'b-2'].map((name) =>
            makeWorker(name, { memoryLimit: 100 * MB, nbytes: nbytes[name] ?? 0, labels: { group: name.slice(0, 1) } }),
          );
        const rows: Array<{ data?: Record<string, number>; call: Call; expected: string[]; why: string }> = [
          { call: { grouped: true }, expected: ['b-1', 'b-2', 'a-1', 'a-2'], why: 'b then a' },
          { call: { grouped: true, n: 1 }, expected: [], why: 'cannot close half a group' },
          { call: { grouped: true, target: 3 }, expected: [], why: 'cannot close half a group' },
          { call: { grouped: true, target: 2 }, expected: ['b-1', 'b-2'], why: 'group b only' },
          { call: { grouped: true, target: 1 }, expected: ['b-1', 'b-2'], why: 'closing a too would leave 0 < target' },
          // a holds 100 B (one key), b holds 75 B + 75 B: a has fewer bytes, so it is visited first;
          // then b would leave a remaining limit of 0 < 2 x 250 B.
          { data: { 'a-1': 100, 'b-1': 75, 'b-2': 75 }, call: { grouped: true }, expected: ['a-1', 'a-2'], why: 'group a only' },
          { data: { 'a-1': 100, 'b-1': 75, 'b-2': 75 }, call: { grouped: true, target: 2 }, expected: ['a-1', 'a-2'], why: 'group a only' },
        ];
        for (const { data, call, expected, why } of rows) {
          const label = data ? 'a holds 100 B, b holds 75 B + 75 B' : 'no data';
          it(`§4.6 grouped, ${label} ${dask(call)} -> [${expected.join(', ')}] (${why})`, () => {
            expect(impl.close(grouped(data), call)).to.deep.equal(expected);
          });
        }
      });
    });
  }

  describe('adaptive_target() on the same states', () => {
    const idle = (limit: number, nbytes: number[] = [0, 0, 0]) => REGISTRATION.map((name, i) => makeWorker(name, { memoryLimit: limit, nbytes: nbytes[i]! }));
    it('§4.6 idle no data adaptive_target() -> 0', () => {
      expect(targetOf(makeSnapshot(idle(100 * MB)))).to.equal(0);
    });
    it('§4.6 data 0/10/20 MB, limits 100 MB adaptive_target() -> 1', () => {
      expect(targetOf(makeSnapshot(idle(100 * MB, [0, 10 * MB, 20 * MB])))).to.equal(1);
    });
    it('§4.6 data 0/10/20 MB, limits 25 MB adaptive_target() -> 3', () => {
      expect(targetOf(makeSnapshot(idle(25 * MB, [20 * MB, 0, 10 * MB])))).to.equal(3);
    });
    for (const busy of REGISTRATION) {
      it(`§4.6 one worker busy (${busy}) adaptive_target() -> 1`, () => {
        const workers = REGISTRATION.map((name) => makeWorker(name, { memoryLimit: 100 * MB, processing: name === busy ? { slowinc: 1 } : {} }));
        expect(targetOf(makeSnapshot(workers))).to.equal(1);
      });
    }
  });
});

describe('selectWorkersToClose — spec §7 scheduler scenarios', () => {
  for (const impl of IMPLEMENTATIONS) {
    describe(impl.label, () => {
      // 4 single-thread workers, defaults a = 4 s, b = 4 s, c = 1 s; tasks a-4, b-4, c-1 each
      // processing on a different worker. Which worker stays idle depends on placement: try each.
      for (let idleAt = 0; idleAt < 4; idleAt++) {
        it(`T35 test_workers_to_close: 3 tasks processing on 3 of 4 workers (w${idleAt} idle) -> exactly 1 worker, the idle one`, () => {
          const prefixes = ['a', 'b', 'c'];
          const workers = [0, 1, 2, 3].map((i) =>
            makeWorker(`w${i}`, { memoryLimit: SYSTEM_MEMORY, processing: i === idleAt ? {} : { [prefixes.shift()!]: 1 } }),
          );
          expect(impl.close(workers, {})).to.deep.equal([`w${idleAt}`]);
        });
      }

      describe('T36 test_workers_to_close_grouped (a = {w0, w1}, b = {w2, w3})', () => {
        const cluster = (over: Record<string, Partial<WorkerInfo>> = {}) =>
          ['w0', 'w1', 'w2', 'w3'].map((name, i) =>
            makeWorker(name, { memoryLimit: SYSTEM_MEMORY, labels: { group: i < 2 ? 'a' : 'b' }, ...over[name] }),
          );
        it('T36 test_workers_to_close_grouped: no data -> all 4', () => {
          expect(impl.close(cluster(), { grouped: true })).to.have.members(['w0', 'w1', 'w2', 'w3']);
        });
        it('T36 test_workers_to_close_grouped: a task running on w0 blocks group a -> {w2, w3}', () => {
          expect(impl.close(cluster({ w0: { processing: { slowinc: 1 } } }), { grouped: true })).to.have.members(['w2', 'w3']);
        });
        it('T36 test_workers_to_close_grouped: "a"*100 (149 B) on w0, "b"*75 and "c"*75 (124 B) on w2, w3 -> {w0, w1} (149 < 248)', () => {
          const workers = cluster({ w0: { nbytes: 149 }, w2: { nbytes: 124 }, w3: { nbytes: 124 } });
          expect(impl.close(workers, { grouped: true })).to.have.members(['w0', 'w1']);
        });
      });

      // gen_cluster's a has 1 thread and b 2; [reverse] swaps the roles, so A registers second.
      for (const reverse of [false, true]) {
        describe(`T37 test_workers_to_close_never_close_long_running[reverse=${reverse}]`, () => {
          const cluster = (A: Partial<WorkerInfo> = {}, B: Partial<WorkerInfo> = {}) => {
            const a = makeWorker('A', { nthreads: reverse ? 2 : 1, memoryLimit: SYSTEM_MEMORY, ...A });
            const b = makeWorker('B', { nthreads: reverse ? 1 : 2, memoryLimit: SYSTEM_MEMORY, ...B });
            return reverse ? [b, a] : [a, b];
          };
          const seceded = { longRunning: 1 };
          const tenBlocked = { processing: { executing: 10 } };

          it('T37 both workers closable initially', () => {
            expect(impl.close(cluster(), {})).to.have.members(['A', 'B']);
          });
          it('T37 a seceded task on A: () = [B]', () => {
            expect(impl.close(cluster(seceded), {})).to.deep.equal(['B']);
          });
          it('T37 A is never offered by (n=2), whether or not B has started its 10 tasks', () => {
            expect(impl.close(cluster(seceded), { n: 2 })).to.not.include('A');
            expect(impl.close(cluster(seceded, tenBlocked), { n: 2 })).to.not.include('A');
          });
          it('T37 once B is busy: () = [], (n=1) = [B], (n=2) = [B]', () => {
            const workers = cluster(seceded, tenBlocked);
            expect(impl.close(workers, {})).to.deep.equal([]);
            expect(impl.close(workers, { n: 1 })).to.deep.equal(['B']);
            expect(impl.close(workers, { n: 2 })).to.deep.equal(['B']);
          });
        });
      }

      it('T38 test_retire_workers (workers_to_close part): x = 1 on A, a 1000-element list on B -> [A]; after A retires -> []', () => {
        const A = makeWorker('A', { memoryLimit: SYSTEM_MEMORY, nbytes: 28 });
        const B = makeWorker('B', { nthreads: 2, memoryLimit: SYSTEM_MEMORY, nbytes: 36_056 });
        expect(impl.close([A, B], {})).to.deep.equal(['A']);
        // Retirement moved x to B: the last worker holding data is never closable in memory mode.
        expect(impl.close([{ ...B, nbytes: 36_056 + 28 }], {})).to.deep.equal([]);
      });

      it('T39 test_retire_workers_n (workers_to_close part): 2 idle workers: n=1 -> 1; n=0 -> none; 1 left: n=1 -> it (no data); n=0 -> none', () => {
        const two = [makeWorker('a', { memoryLimit: SYSTEM_MEMORY }), makeWorker('b', { nthreads: 2, memoryLimit: SYSTEM_MEMORY })];
        const first = impl.close(two, { n: 1 });
        expect(first).to.have.length(1);
        const left = two.filter((w) => !first.includes(w.name));
        expect(impl.close(left, { n: 0 })).to.deep.equal([]);
        expect(impl.close(left, { n: 1 })).to.deep.equal([left[0]!.name]);
        expect(impl.close([], { n: 0 })).to.deep.equal([]);
      });

      it('T40 test_retire_workers_close (workers_to_close part): 2 idle empty workers, () -> both', () => {
        const two = [makeWorker('a', { memoryLimit: SYSTEM_MEMORY }), makeWorker('b', { nthreads: 2, memoryLimit: SYSTEM_MEMORY })];
        expect(impl.close(two, {})).to.have.members(['a', 'b']);
      });
    });
  }
});
