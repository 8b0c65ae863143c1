import { expect } from 'chai';
import { Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { Adaptive, type AdaptiveOptions } from '../src/loop/Adaptive.js';
import { Cluster } from '../src/cluster/Cluster.js';
import type { DecisionRecord } from '../src/DecisionRecord.js';
import type { ScalingHeuristic } from '../src/contracts/ScalingHeuristic.js';
import type { SchedulerSnapshot } from '../src/contracts/SchedulerSnapshot.js';
import { MemoryLogger } from '../src/logging/Logger.js';
import { definePlugin } from '../src/plugins/EbbtidePlugin.js';
import { Kernel } from '../src/plugins/Kernel.js';
import { Autoscaler } from '../src/runtime/Autoscaler.js';
import { SchedulerStateStore } from '../src/state/SchedulerStateStore.js';
import { FakeBackend, FakeScheduler, advance } from '../src/testing/fakes.js';
import { keepFirst, newTestScheduler } from './helpers.js';

/** One worker per `per` queued tasks, with a floor the test may raise: pure, like a real heuristic. */
class QueueHeuristic implements ScalingHeuristic {
  calls = 0;
  floor = 0;
  per = 2;
  target(s: SchedulerSnapshot) {
    this.calls++;
    let queued = 0;
    for (const p of Object.values(s.prefixes)) queued += p.queued;
    return { target: Math.max(this.floor, Math.ceil(queued / this.per)), explanation: { queued } };
  }
}

/** The loop as the `Autoscaler` wires it: `changes$` emits after each event reached the store. */
function setup(rx: TestScheduler, options: Partial<AdaptiveOptions> = {}) {
  const store = new SchedulerStateStore();
  const scheduler = new FakeScheduler();
  const changes = new Subject<void>();
  scheduler.events$.subscribe((e) => {
    store.apply(e);
    changes.next();
  });
  const backend = new FakeBackend();
  const logger = new MemoryLogger('debug');
  const cluster = new Cluster(
    backend,
    { name: 'w', schedulerAddress: () => 'fake://s', nthreads: 1, memoryLimit: 0, workerStartTimeout: 300, lostWorkerTimeout: 15 },
    rx,
    logger,
  );
  const heuristic = new QueueHeuristic();
  const adaptive = new Adaptive(
    { store, scheduler, cluster, heuristic, strategy: keepFirst, workerKey: { key: (w) => w.name }, rx, logger, changes$: changes },
    { interval: 1, minimum: 0, maximum: Infinity, waitCount: 3, earlyTick: 0.1, ...options },
  );
  const records: DecisionRecord[] = [];
  adaptive.decisions$.subscribe((r) => records.push(r));
  let next = 0;
  /** `n` new tasks queued now. */
  const submit = (n: number) => {
    for (let i = 0; i < n; i++) scheduler.emit({ type: 'task.transition', key: `t-${next++}`, prefix: 'job', to: 'queued' });
  };
  /** Connects every started worker. */
  const arrive = () => {
    for (const name of backend.active) {
      if (!store.workerNames().includes(name)) {
        scheduler.emit({
          type: 'worker.added',
          worker: { name, address: `tcp://127.0.0.1/${name}`, host: '127.0.0.1', nthreads: 1, memoryLimit: 0, nbytes: 0, status: 'running', labels: {} },
        });
      }
    }
  };
  /** Runs virtual time up to `ms` after the start, in 10 ms steps so promise continuations run in between. */
  const until = (ms: number) => advance(rx, ms - rx.frame, 10);
  return { store, scheduler, backend, cluster, heuristic, adaptive, records, submit, arrive, until };
}

const summary = (r: DecisionRecord) => ({ tick: r.tick, time: r.time, status: r.recommendation.status, early: 'earlyTick' in r.explanation });

describe('Adaptive loop: the early tick (virtual time)', () => {
  it('scales up earlyTick after a burst arrives, instead of at the next interval, as an ordinary tick', async () => {
    const rx = newTestScheduler();
    const { adaptive, backend, records, submit, heuristic, until } = setup(rx);
    adaptive.start();
    await until(300);
    submit(10);
    await until(390);
    expect(records).to.have.length(0);
    await until(400);
    expect(records.map(summary)).to.deep.equal([{ tick: 1, time: 0.4, status: 'up', early: true }]);
    expect(records[0]!.recommendation).to.deep.equal({ status: 'up', n: 5 });
    expect(records[0]!.outcome).to.deep.equal({ status: 'scaled-up', started: ['w-0', 'w-1', 'w-2', 'w-3', 'w-4'] });
    expect(records[0]!.explanation.earlyTick).to.contain('10 task(s)');
    expect(backend.starts.flat()).to.have.length(5);
    // The whole burst was seen by one decision.
    expect(heuristic.calls).to.equal(1);
    await until(1000);
    expect(records.map(summary)).to.deep.equal([
      { tick: 1, time: 0.4, status: 'up', early: true },
      { tick: 2, time: 1, status: 'same', early: false },
    ]);
    adaptive.stop('test');
  });

  it('is rate-limited: a steady stream of work gets at most one early tick per earlyTick', async () => {
    const rx = newTestScheduler();
    const { adaptive, records, submit, heuristic, until } = setup(rx, { interval: 10 });
    adaptive.start();
    // Two new tasks every 10 ms from 100 ms to 990 ms: every early tick can scale up.
    for (let t = 100; t < 1000; t += 10) {
      await until(t);
      submit(2);
    }
    await until(2000);
    const early = records.filter((r) => r.explanation.earlyTick);
    expect(early.length).to.be.within(5, 9);
    for (let i = 1; i < early.length; i++) expect(early[i]!.time! - early[i - 1]!.time!).to.be.at.least(0.1 - 1e-9);
    expect(early.every((r) => r.recommendation.status === 'up')).to.equal(true);
    // No decision besides those: the interval (10 s) has not come yet.
    expect(records).to.have.length(early.length);
    expect(heuristic.calls).to.equal(early.length);
    adaptive.stop('test');
  });

  it('does not tick early without new work (worker events, heartbeats, work finishing)', async () => {
    const rx = newTestScheduler();
    const { adaptive, records, scheduler, heuristic, submit, arrive, until } = setup(rx);
    adaptive.start();
    await until(300);
    submit(4);
    await until(990);
    expect(records.map(summary)).to.deep.equal([{ tick: 1, time: 0.4, status: 'up', early: true }]);
    arrive();
    const calls = heuristic.calls;
    await until(1200);
    // A worker changing, tasks moving from queued to processing and finishing: no more demand.
    scheduler.emit({ type: 'worker.updated', name: 'w-0', nbytes: 1000 });
    scheduler.emit({ type: 'task.transition', key: 't-0', to: 'processing', worker: 'w-0' });
    scheduler.emit({ type: 'task.transition', key: 't-1', to: 'processing', worker: 'w-1' });
    scheduler.emit({ type: 'task.transition', key: 't-0', to: 'memory', duration: 1 });
    await until(1990);
    expect(heuristic.calls).to.equal(calls + 1); // only the interval tick at 1 s
    expect(records.map(summary).slice(1)).to.deep.equal([{ tick: 2, time: 1, status: 'same', early: false }]);
    adaptive.stop('test');
  });

  it('does not change scale-down: waitCount counts interval ticks, early decisions that are not up leave no trace', async () => {
    /** The same script with and without the early tick: 4 workers, demand for 1, new work that never needs more. */
    async function run(earlyTick: number) {
      const rx = newTestScheduler();
      const { adaptive, records, heuristic, submit, arrive, until } = setup(rx, { earlyTick, waitCount: 3 });
      heuristic.floor = 4;
      heuristic.per = 10;
      adaptive.start();
      await until(1000);
      arrive();
      heuristic.floor = 0;
      // A task now and then, each a little more work, never enough for more than the 4 workers.
      for (const t of [1150, 1420, 2100, 2650, 3300, 3310, 4050, 4700]) {
        await until(t);
        submit(1);
      }
      await until(6000);
      adaptive.stop('test');
      return { records: records.map((r) => ({ ...r, duration: 0 })), calls: heuristic.calls };
    }
    const plain = await run(0);
    const early = await run(0.1);
    expect(early.records).to.deep.equal(plain.records);
    // The early decisions were made (and dropped): 8 submissions, 7 windows (two in one).
    expect(early.calls).to.equal(plain.calls + 7);
    const statuses = plain.records.map((r) => `${r.time}:${r.recommendation.status}`);
    expect(statuses).to.include('4:down');
    expect(plain.records.find((r) => r.recommendation.status === 'down')!.closeCounts).to.deep.equal({});
    expect(plain.records.find((r) => r.time === 3)!.closeCounts).to.deep.equal({ 'w-1': 2, 'w-2': 2, 'w-3': 2 });
  });

  it('re-arms after a running tick: work that arrived while an interval tick acted gets an early tick', async () => {
    const rx = newTestScheduler();
    const { adaptive, backend, records, submit, heuristic, until } = setup(rx, { earlyTick: 0.1 });
    heuristic.floor = 1;
    let release!: () => void;
    let slow = true;
    backend.startImpl = () => (slow ? new Promise<void>((r) => (release = r)) : Promise.resolve());
    adaptive.start();
    await until(1100);
    // The interval tick at 1 s is starting its worker; work arrives meanwhile (its early tick
    // at 1.2 s finds the loop busy and is dropped by exhaustMap).
    submit(8);
    await until(1500);
    expect(records).to.have.length(0);
    slow = false;
    release();
    await until(1600);
    expect(records.map(summary)).to.deep.equal([
      { tick: 1, time: 1, status: 'up', early: false },
      { tick: 2, time: 1.6, status: 'up', early: true },
    ]);
    expect(records[1]!.recommendation).to.deep.equal({ status: 'up', n: 4 });
    adaptive.stop('test');
  });

  it('is off by default, in manual mode, at the maximum and while the scheduler cannot be read', async () => {
    type Setup = ReturnType<typeof setup>;
    for (const [what, options, prepare] of [
      ['off', { earlyTick: 0 }, undefined],
      ['manual', {}, (s: Setup) => void s.adaptive.scale(1)],
      ['maximum', { maximum: 0 }, undefined],
      ['blind', {}, (s: Setup) => s.scheduler.emit({ type: 'connection', connected: false })],
    ] as const) {
      const rx = newTestScheduler();
      const ctx = setup(rx, options);
      const { adaptive, records, submit, heuristic, until } = ctx;
      adaptive.start();
      prepare?.(ctx);
      await until(300);
      const calls = heuristic.calls;
      submit(10);
      await until(990);
      expect(heuristic.calls, what).to.equal(calls);
      expect(records.filter((r) => r.explanation.earlyTick), what).to.have.length(0);
      adaptive.stop('test');
    }
  });

  it('the Autoscaler feeds it: adaptive.earlyTick turns it on, and it is off without', async () => {
    class Queue extends QueueHeuristic {}
    class KeepFirst {
      select = keepFirst.select;
    }
    const plugin = definePlugin({
      name: 'early-test',
      register(r) {
        r.heuristic('queue', Queue);
        r.workersToClose('keep-first', KeepFirst);
        r.workerKey('by-name', class { key = (w: { name: string }) => w.name; });
      },
    });
    const times: Record<string, number[]> = {};
    for (const earlyTick of ['100ms', undefined]) {
      const rx = newTestScheduler();
      const kernel = await Kernel.create({
        builtins: [plugin],
        rxScheduler: rx,
        logger: new MemoryLogger('debug'),
        sources: {
          env: {},
          flags: { heuristic: 'queue', workersToClose: 'keep-first', workerKey: 'by-name', 'cluster.name': 'c', ...(earlyTick ? { 'adaptive.earlyTick': earlyTick } : {}) },
        },
      });
      const scheduler = new FakeScheduler();
      const backend = new FakeBackend();
      const auto = await Autoscaler.start(kernel, { scheduler, backend });
      const ups: number[] = [];
      auto.decisions$.subscribe((r) => r.recommendation.status === 'up' && ups.push(r.time!));
      await advance(rx, 300, 10);
      for (let i = 0; i < 6; i++) scheduler.emit({ type: 'task.transition', key: `t-${i}`, prefix: 'job', to: 'queued' });
      await advance(rx, 1000, 10);
      await auto.shutdown('test');
      times[earlyTick ?? 'off'] = ups;
      expect(backend.starts.flat().map((s) => s.name), earlyTick).to.deep.equal(['c-0', 'c-1', 'c-2']);
    }
    expect(times).to.deep.equal({ '100ms': [0.4], off: [1] });
  });
});
