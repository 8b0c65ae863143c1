// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import type { WorkerInfo, WorkerKey } from '@ebbtide/core';
import { makePrefix, makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import { DaskTickLedger, MB, SYSTEM_MEMORY, asSet, daskContext, learnedPrefix } from './helpers.js';

/*
 * Spec §7.2 / §7.5 scenarios whose asserted quantity is a decision: whole ticks through core's
 * `decideTick` with the Dask plugin's heuristic, workers-to-close and worker key. Each tick gets
 * the snapshot the cluster would show at that moment (Dask's timing is replaced by an explicit
 * sequence of states; an action is only real once the next snapshot reflects it).
 */

const GB = 1e9;
const names = (n: number) => Array.from({ length: n }, (_, i) => String(i));

/** Dask test: `worker_key = lambda ws: ws.name.split("-")[0]`. */
class NamePrefixKey implements WorkerKey {
  key(w: WorkerInfo): string {
    return w.name.split('-')[0]!;
  }
}

describe('decideTick with the Dask plugin — spec §7.2 / §7.5 decision scenarios', () => {
  it('T10 test_min_max: min 1, max 2, wait_count 10: up 1 at once, up 2 under load (clamped), then down to 1 after 10 ticks', () => {
    const ledger = new DaskTickLedger({ minimum: 1, maximum: 2, waitCount: 10 });
    const worker = (name: string, over: Partial<WorkerInfo> = {}) => makeWorker(name, { nthreads: 1, memoryLimit: GB, ...over });

    expect(ledger.tick(makeSnapshot()).recommendation).to.deep.equal({ status: 'up', n: 1 });
    for (let i = 0; i < 5; i++) expect(ledger.tick(makeSnapshot([worker('0')])).recommendation).to.deep.equal({ status: 'same' });
    expect(ledger.log).to.deep.equal([{ status: 'up', n: 1 }]);

    // 100 x slowinc(0.1) on one 1-thread worker: 2 slots processing, 98 queued (0.5 s unknown):
    // cpu = ceil(50 / 5) = 10 -> clamped to 2.
    const loaded = makeSnapshot([worker('0', { processing: { slowinc: 2 } })], { slowinc: makePrefix({ queued: 98 }) });
    const up = ledger.tick(loaded);
    expect(up.target).to.equal(10);
    expect(up.recommendation).to.deep.equal({ status: 'up', n: 2 });

    // Two busy workers for a while: stays at 2, no more log entries.
    const busy = makeSnapshot([worker('0', { processing: { slowinc: 2 } }), worker('1', { processing: { slowinc: 2 } })], {
      slowinc: learnedPrefix(0.1, { queued: 60 }),
    });
    for (let i = 0; i < 5; i++) expect(ledger.tick(busy).recommendation).to.deep.equal({ status: 'same' });
    expect(ledger.log).to.have.length(2);
    expect(ledger.log.every((r) => r.status === 'up')).to.equal(true);

    // Released: both idle and empty -> target 0 -> safe 1; the later-registered worker goes after 10 ticks.
    const released = makeSnapshot([worker('0'), worker('1')], { slowinc: learnedPrefix(0.1) });
    for (let i = 1; i < 10; i++) {
      const r = ledger.tick(released);
      expect(r.recommendation, `tick ${i}`).to.deep.equal({ status: 'same' });
      expect(r.closeCounts).to.deep.equal({ 1: i });
    }
    expect(ledger.tick(released).recommendation).to.deep.equal({ status: 'down', workers: ['1'] });
    expect(ledger.log.at(-1)!.status).to.equal('down');
    expect(ledger.tick(makeSnapshot([worker('0')])).recommendation).to.deep.equal({ status: 'same' });
  });

  it('T11 test_avoid_churn: wait_count 5, 10 x (2 busy ticks, 2 idle ticks) -> the log holds only the initial up', () => {
    const ledger = new DaskTickLedger({ waitCount: 5 });
    const prefixes = { slowinc: learnedPrefix(0.04) };
    const busy = makeSnapshot([makeWorker('0', { nthreads: 4, memoryLimit: GB, processing: { slowinc: 1 } })], prefixes);
    const idle = makeSnapshot([makeWorker('0', { nthreads: 4, memoryLimit: GB })], prefixes);

    expect(ledger.tick(makeSnapshot([], { slowinc: makePrefix({ queued: 1 }) })).recommendation).to.deep.equal({ status: 'up', n: 1 });
    for (let round = 0; round < 10; round++) {
      ledger.tick(busy);
      ledger.tick(busy);
      ledger.tick(idle);
      expect(ledger.tick(idle).closeCounts, `round ${round}: proposed twice, not yet closed`).to.deep.equal({ 0: 2 });
    }
    expect(ledger.log).to.deep.equal([{ status: 'up', n: 1 }]);

    // The counter is what prevents the churn: a gap of wait_count ticks does close the worker.
    ledger.tick(busy);
    for (let i = 0; i < 4; i++) expect(ledger.tick(idle).recommendation).to.deep.equal({ status: 'same' });
    expect(ledger.tick(idle).recommendation).to.deep.equal({ status: 'down', workers: ['0'] });
  });

  describe('T12 test_adapt_quickly (threads 1, wait_count 5, maximum 10)', () => {
    const worker = (name: string, over: Partial<WorkerInfo> = {}) => makeWorker(name, { nthreads: 1, memoryLimit: GB, ...over });

    it('T12 test_adapt_quickly: 1000 x slowinc(0.1) on one worker -> the 2nd log entry is up with 2 < n <= 10', () => {
      const ledger = new DaskTickLedger({ waitCount: 5, maximum: 10 });
      ledger.tick(makeSnapshot([], { slowinc: makePrefix({ queued: 1 }) }));
      expect(ledger.log).to.have.length(1);
      // The first task taught slowinc = 0.1 s; 2 slots processing, 998 queued.
      const r = ledger.tick(makeSnapshot([worker('0', { processing: { slowinc: 2 } })], { slowinc: learnedPrefix(0.1, { queued: 998 }) }));
      expect(ledger.log).to.have.length(2);
      const up = ledger.log[1]!;
      expect(up.status).to.equal('up');
      if (up.status !== 'up') return;
      expect(up.n).to.be.greaterThan(2).and.at.most(10);
      expect(r.explanation.bounds).to.deep.include({ cappedBy: 'maximum' });
    });

    it('T12 test_adapt_quickly: released with one result still held -> exactly 1 worker left, the one holding data', () => {
      const ledger = new DaskTickLedger({ waitCount: 5, maximum: 10 });
      const workers = names(10).map((n) => worker(n, n === '0' ? { nbytes: 28 } : {}));
      const snapshot = makeSnapshot(workers, { slowinc: learnedPrefix(0.1) });
      for (let i = 1; i < 5; i++) {
        const r = ledger.tick(snapshot);
        expect(r.target).to.equal(1);
        expect(r.recommendation).to.deep.equal({ status: 'same' });
      }
      const down = ledger.tick(snapshot).recommendation;
      expect(asSet(down)).to.deep.equal({ status: 'down', workers: names(10).slice(1) });
      expect(ledger.tick(makeSnapshot([workers[0]!], { slowinc: learnedPrefix(0.1) })).recommendation).to.deep.equal({ status: 'same' });
    });

    for (const d of [0.1, 1000]) {
      it(`T12 test_adapt_quickly: a 100-long sequential chain (slowinc = ${d} s) keeps 1 worker (task cap: 1 runnable task)`, () => {
        const ledger = new DaskTickLedger({ waitCount: 5, maximum: 10 });
        // One link runs; the other 99 wait on their dependency (neither queued nor unrunnable).
        const snapshot = makeSnapshot([worker('0', { nbytes: 28, processing: { slowinc: 1 } })], { slowinc: learnedPrefix(d) });
        for (let i = 0; i < 6; i++) {
          const r = ledger.tick(snapshot);
          expect(r.target).to.equal(1);
          expect(r.recommendation).to.deep.equal({ status: 'same' });
        }
      });
    }
  });

  it('T13 test_adapt_down: 5 busy workers, adapt(maximum=2) -> the 3 last-registered busy workers are retired (n-mode ignores busyness)', () => {
    const ledger = new DaskTickLedger({ maximum: 2 });
    const workers = names(5).map((n) => makeWorker(n, { nthreads: 4, memoryLimit: GB, processing: { slowinc: 5 } }));
    const snapshot = makeSnapshot(workers, { slowinc: learnedPrefix(0.1, { queued: 975 }) });
    for (let i = 0; i < 2; i++) {
      const r = ledger.tick(snapshot);
      expect(r.safeTarget).to.equal(2);
      expect(r.workersToClose).to.deep.equal(['4', '3', '2']);
      expect(r.recommendation).to.deep.equal({ status: 'same' });
    }
    expect(asSet(ledger.tick(snapshot).recommendation)).to.deep.equal({ status: 'down', workers: ['2', '3', '4'] });
    expect(ledger.tick(makeSnapshot(workers.slice(0, 2), snapshot.prefixes)).recommendation).to.deep.equal({ status: 'same' });
  });

  it('T14 test_no_more_workers_than_tasks: default slowinc = 1000 s, maximum 4, one task -> at most 1 worker ever', () => {
    const ledger = new DaskTickLedger({ minimum: 0, maximum: 4, context: daskContext({ defaultTaskDurations: { slowinc: 1000 } }) });
    const states = [
      makeSnapshot([], { slowinc: makePrefix({ queued: 1 }) }), // cpu 200, capped by 1 task
      makeSnapshot([], { slowinc: makePrefix({ unrunnable: 1 }) }),
      makeSnapshot([makeWorker('0', { nthreads: 4, memoryLimit: GB, processing: { slowinc: 1 } })], { slowinc: makePrefix() }),
      makeSnapshot([makeWorker('0', { nthreads: 4, memoryLimit: GB, processing: { slowinc: 1 } })], { slowinc: makePrefix() }),
    ];
    // From the second tick on, the worker asked for on the first one is in the plan.
    for (const [i, s] of states.entries()) expect(ledger.tick(s, i === 0 ? {} : { plan: ['0'], requested: ['0'] }).target).to.be.at.most(1);
    expect(ledger.log).to.deep.equal([{ status: 'up', n: 1 }]);
  });

  for (const cpuCount of [4, 8]) {
    for (const td of [5, 1]) {
      it(`T16 test_target_duration[${td}] (CPU_COUNT ${cpuCount}): up n values satisfy 2 <= min < max <= 5`, () => {
        const ctx = daskContext({ targetDuration: td, defaultTaskDurations: { slowinc: 1 } });
        const ledger = new DaskTickLedger({ minimum: 2, context: ctx });
        ledger.tick(makeSnapshot()); // up to the minimum
        // worker-saturation inf: all td x CPU_COUNT x 5 tasks are processing, split over 2 workers.
        const nTasks = td * cpuCount * 5;
        const workers = ['0', '1'].map((n) => makeWorker(n, { nthreads: cpuCount, memoryLimit: GB, processing: { slowinc: nTasks / 2 } }));
        ledger.tick(makeSnapshot(workers, { slowinc: makePrefix() }));
        const ups = ledger.log.flatMap((r) => (r.status === 'up' ? [r.n] : []));
        expect(ups).to.deep.equal([2, 5]);
        expect(Math.min(...ups)).to.be.at.least(2).and.lessThan(Math.max(...ups));
        expect(Math.max(...ups)).to.be.at.most(5);
      });
    }
  }

  it('T17 test_worker_keys: a-1, a-2, b-1, b-2 grouped by name prefix, minimum 1 -> the later group b closes whole, a survives', () => {
    const ledger = new DaskTickLedger({ minimum: 1, workerKey: new NamePrefixKey() });
    const workers = ['a-1', 'a-2', 'b-1', 'b-2'].map((n) => makeWorker(n, { nthreads: 4, memoryLimit: SYSTEM_MEMORY }));
    for (let i = 0; i < 2; i++) {
      const r = ledger.tick(makeSnapshot(workers));
      expect(r.target, 'all idle and empty').to.equal(0);
      expect(r.safeTarget).to.equal(1);
      expect(r.workersToClose, 'b is later; closing a too would go below the target').to.deep.equal(['b-1', 'b-2']);
    }
    expect(asSet(ledger.tick(makeSnapshot(workers)).recommendation)).to.deep.equal({ status: 'down', workers: ['b-1', 'b-2'] });
    // Survivors are one full group, and half of it is never proposed.
    const survivors = makeSnapshot(workers.slice(0, 2));
    for (let i = 0; i < 4; i++) {
      const r = ledger.tick(survivors);
      expect(r.workersToClose).to.deep.equal([]);
      expect(r.recommendation).to.deep.equal({ status: 'same' });
    }
  });

  it('T21 test_adaptive_no_memory_limit: memory_limit 0, min 1, max 10, 5 x slowinc -> the sum of up n is <= 5', () => {
    const ledger = new DaskTickLedger({ minimum: 1, maximum: 10 });
    const worker = (over: Partial<WorkerInfo>) => makeWorker('0', { nthreads: 1, memoryLimit: 0, ...over });
    ledger.tick(makeSnapshot([], { slowinc: makePrefix({ queued: 5 }) }));
    for (let i = 0; i < 5; i++) ledger.tick(makeSnapshot([worker({ processing: { slowinc: 2 } })], { slowinc: makePrefix({ queued: 3 }) }));
    // The 5 results are held until gathered: with no limit the memory rule must not double.
    for (let i = 0; i < 5; i++) expect(ledger.tick(makeSnapshot([worker({ nbytes: 5 * 28 })], { slowinc: learnedPrefix(0.35) })).target).to.equal(1);
    const ups = ledger.log.flatMap((r) => (r.status === 'up' ? [r.n] : []));
    expect(ups.reduce((a, b) => a + b, 0)).to.be.at.most(5);
  });

  it('T50 test_slow_adaptive: a running "fast" worker and slow-to-connect ones: grows beyond 1, then shrinks to exactly ["fast"] (never-arrived first)', () => {
    const ledger = new DaskTickLedger({ minimum: 1, maximum: 4, context: daskContext({ targetDuration: 1 }) });
    const fast = (over: Partial<WorkerInfo> = {}) => makeWorker('fast', { nthreads: 4, memoryLimit: GB, ...over });

    // 200 x slowinc(0.1), unknown duration: ceil(1.1 x 4) = 5 processing, 195 queued.
    const loaded = makeSnapshot([fast({ processing: { slowinc: 5 } })], { slowinc: makePrefix({ queued: 195 }) });
    expect(ledger.tick(loaded).recommendation).to.deep.equal({ status: 'up', n: 4 });

    const plan = ['fast', 'slow-1', 'slow-2', 'slow-3'];
    const sets = { plan, requested: plan };
    expect(ledger.tick(loaded, sets).recommendation).to.deep.equal({ status: 'same' });

    // Released before any slow worker connected: target 0 -> safe 1; the 3 never-arrived workers
    // cover the surplus, so the scheduler is not asked and "fast" is never proposed.
    const idle = makeSnapshot([fast()], { slowinc: learnedPrefix(0.1) });
    for (let i = 1; i < 3; i++) {
      const r = ledger.tick(idle, sets);
      expect(r.recommendation).to.deep.equal({ status: 'same' });
      expect(r.closeCounts).to.deep.equal({ 'slow-1': i, 'slow-2': i, 'slow-3': i });
    }
    expect(asSet(ledger.tick(idle, sets).recommendation)).to.deep.equal({ status: 'down', workers: ['slow-1', 'slow-2', 'slow-3'] });
    expect(ledger.tick(idle, { plan: ['fast'], requested: ['fast'] }).recommendation).to.deep.equal({ status: 'same' });
  });

  it('T51 test_local::test_adapt: an empty idle cluster with adapt(minimum=1, maximum=2) converges to exactly 1 worker', () => {
    const ledger = new DaskTickLedger({ minimum: 1, maximum: 2 });
    expect(ledger.tick(makeSnapshot()).recommendation).to.deep.equal({ status: 'up', n: 1 });
    const one = makeSnapshot([makeWorker('0', { nthreads: 4, memoryLimit: GB })]);
    for (let i = 0; i < 5; i++) expect(ledger.tick(one).recommendation).to.deep.equal({ status: 'same' });
  });

  it('T52 test_local::test_adapt_then_manual: 8 idle workers, adapt(0, 4) -> 0 workers; then 1000 tasks -> 4 workers', () => {
    const ledger = new DaskTickLedger({ minimum: 0, maximum: 4 });
    const eight = makeSnapshot(names(8).map((n) => makeWorker(n, { memoryLimit: GB })));
    ledger.tick(eight);
    ledger.tick(eight);
    expect(asSet(ledger.tick(eight).recommendation)).to.deep.equal({ status: 'down', workers: names(8) });
    // 1000 x slowinc on an empty cluster: min(1000, ceil(1000 x 0.5 / 5)) = 100 -> clamped to 4.
    const r = ledger.tick(makeSnapshot([], { slowinc: makePrefix({ queued: 1000 }) }));
    expect(r.target).to.equal(100);
    expect(r.recommendation).to.deep.equal({ status: 'up', n: 4 });
  });

  describe('R1: 4 workers (1 thread, 100 MB), 10 MB on the first-registered, adapt(minimum=1, wait_count=3)', () => {
    const workers = names(4).map((n) => makeWorker(n, { memoryLimit: 100 * MB, nbytes: n === '0' ? 10 * MB : 0 }));

    it('R1 ticks 1-2 log nothing (safe target 1); tick 3 downs the 3 empty workers; the data holder survives; tick 4 is same', () => {
      const ledger = new DaskTickLedger({ minimum: 1, waitCount: 3 });
      for (let i = 1; i <= 2; i++) {
        const r = ledger.tick(makeSnapshot(workers));
        expect(r.safeTarget).to.equal(1);
        expect(r.recommendation).to.deep.equal({ status: 'same' });
        expect(r.closeCounts).to.deep.equal({ 1: i, 2: i, 3: i });
      }
      expect(ledger.log).to.deep.equal([]);
      expect(asSet(ledger.tick(makeSnapshot(workers)).recommendation)).to.deep.equal({ status: 'down', workers: ['1', '2', '3'] });
      const r4 = ledger.tick(makeSnapshot([workers[0]!]));
      expect(r4.target, 'the data holder is not closable').to.equal(1);
      expect(r4.recommendation).to.deep.equal({ status: 'same' });
      expect(ledger.log).to.have.length(1);
    });

    it('R1 re-adapting the survivor with minimum=3 -> {up, n: 3}', () => {
      const ledger = new DaskTickLedger({ minimum: 3, waitCount: 3 });
      expect(ledger.tick(makeSnapshot([workers[0]!])).recommendation).to.deep.equal({ status: 'up', n: 3 });
    });
  });
});
