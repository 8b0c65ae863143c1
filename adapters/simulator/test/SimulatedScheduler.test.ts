import { expect } from 'chai';
import { type RetireResult, type SchedulerEvent, SchedulerStateStore } from '@ebbtide/core';
import { SimulatedScheduler } from '../src/sim/SimulatedScheduler.js';
import { VirtualClock } from '../src/sim/VirtualClock.js';
import type { TraceTask } from '../src/trace/Trace.js';
import { runClock, traceOf } from './helpers.js';

interface Setup {
  clock: VirtualClock;
  sched: SimulatedScheduler;
  store: SchedulerStateStore;
  /** [virtual seconds, event] */
  log: Array<[number, SchedulerEvent]>;
  connect(name: string, nthreads?: number): void;
  at(seconds: number): Promise<void>;
}

async function setup(tasks: TraceTask[], options: { bandwidth?: number; heartbeatInterval?: number } = {}): Promise<Setup> {
  const clock = new VirtualClock();
  const sched = new SimulatedScheduler(traceOf(tasks), { bandwidth: options.bandwidth ?? 1e8, heartbeatInterval: options.heartbeatInterval ?? 0 }, clock);
  const store = new SchedulerStateStore();
  const log: Array<[number, SchedulerEvent]> = [];
  sched.events$.subscribe((e) => {
    store.apply(e);
    log.push([clock.now() / 1000, e]);
  });
  await sched.start();
  return {
    clock,
    sched,
    store,
    log,
    connect: (name, nthreads = 1) => sched.connect({ name, scheduler: sched.address, nthreads, memoryLimit: 0 }),
    at: (seconds) => runClock(clock, seconds * 1000),
  };
}

function task(key: string, t: number, fields: Partial<TraceTask> = {}): TraceTask {
  return { t, key, prefix: key.split('-')[0]!, duration: 1, nbytes: 0, holdFor: 0, ...fields };
}

/** Task transitions as `time key to [worker]`. */
function transitions(log: Array<[number, SchedulerEvent]>): string[] {
  return log.filter(([, e]) => e.type === 'task.transition').map(([t, e]) => {
    const x = e as Extract<SchedulerEvent, { type: 'task.transition' }>;
    return `${t} ${x.key} ${x.to}${x.worker ? ` ${x.worker}` : ''}`;
  });
}

describe('SimulatedScheduler', () => {
  it('queues tasks at their t, assigns them FIFO to free thread slots, completes and releases them', async () => {
    const s = await setup([task('a-0', 0, { duration: 2 }), task('a-1', 0, { duration: 1, nbytes: 10 }), task('a-2', 0.5, { duration: 1 })]);
    s.connect('w-0', 2);
    await s.at(0.5);
    expect(s.store.counts()).to.deep.equal({ workers: 1, queued: 1, unrunnable: 0, processing: 2 });
    await s.at(10);
    expect(transitions(s.log)).to.deep.equal([
      '0 a-0 queued',
      '0 a-1 queued',
      '0 a-0 processing w-0',
      '0 a-1 processing w-0',
      '0.5 a-2 queued',
      '1 a-1 memory',
      '1 a-1 released',
      '1 a-2 processing w-0',
      '2 a-0 memory',
      '2 a-0 released',
      '2 a-2 memory',
      '2 a-2 released',
    ]);
    const memory = s.log.find(([, e]) => e.type === 'task.transition' && e.key === 'a-1' && e.to === 'memory')![1];
    expect(memory).to.deep.include({ duration: 1 });
    const bytes = s.log.filter(([, e]) => e.type === 'worker.updated').map(([t, e]) => [t, (e as { nbytes?: number }).nbytes]);
    expect(bytes).to.deep.include.members([
      [1, 10],
      [1, 0],
    ]);
    expect(s.sched.drained).to.equal(true);
    expect(s.store.counts()).to.deep.equal({ workers: 1, queued: 0, unrunnable: 0, processing: 0 });
    expect(s.store.snapshot(10).prefixes.a!.durationAverage).to.be.above(0);
    const stats = s.sched.stats();
    expect(stats.waits).to.deep.equal([0, 0, 0.5]);
    expect(stats).to.deep.include({ submitted: 3, completions: 3, firstSubmit: 0, lastCompletion: 2, peakWorkers: 1, bytesMoved: 0, resultsLost: 0 });
  });

  it('keeps a result on its worker for holdFor seconds after it is computed', async () => {
    const s = await setup([task('x-0', 1, { duration: 2, nbytes: 500, holdFor: 5 })]);
    s.connect('w-0');
    await s.at(7.9);
    expect(s.sched.nbytesOf('w-0')).to.equal(500);
    expect(s.sched.drained).to.equal(false);
    await s.at(8);
    expect(s.sched.nbytesOf('w-0')).to.equal(0);
    expect(s.sched.drained).to.equal(true);
    expect(transitions(s.log)).to.deep.equal(['1 x-0 queued', '1 x-0 processing w-0', '3 x-0 memory', '8 x-0 released']);
  });

  it('retire: copies unique results at the bandwidth, then removes the worker', async () => {
    const s = await setup([task('d-0', 0, { nbytes: 50e6, holdFor: 100 }), task('d-1', 0, { nbytes: 20e6, holdFor: 100 })], { bandwidth: 10e6 });
    s.connect('w-0');
    s.connect('w-1');
    await s.at(2);
    let result: RetireResult | undefined;
    void s.sched.retire(['w-0']).then((r) => (result = r));
    // 50 MB at 10 MB/s: five virtual seconds.
    await s.at(6.999);
    expect(result).to.equal(undefined);
    expect(s.sched.workerNames()).to.deep.equal(['w-0', 'w-1']);
    await s.at(7);
    expect(result).to.deep.equal({ outcomes: [{ name: 'w-0', status: 'retired', movedBytes: 50e6 }] });
    expect(s.sched.workerNames()).to.deep.equal(['w-1']);
    expect(s.sched.nbytesOf('w-1')).to.equal(70e6);
    expect(s.log.find(([, e]) => e.type === 'worker.removed')).to.deep.equal([7, { type: 'worker.removed', name: 'w-0' }]);
    expect(s.sched.stats().bytesMoved).to.equal(50e6);
    expect(s.sched.stats().resultsLost).to.equal(0);
    // The moved results are released from their new holder.
    await s.at(200);
    expect(s.sched.nbytesOf('w-1')).to.equal(0);
    expect(s.sched.drained).to.equal(true);
  });

  it('retire: keeps a worker whose data has no recipient, and says unknown for a name it does not know', async () => {
    const s = await setup([task('d-0', 0, { nbytes: 1000, holdFor: 100 }), task('e-0', 5, { duration: 1 })]);
    s.connect('w-0');
    await s.at(2);
    const result = await s.sched.retire(['w-0', 'nobody']);
    expect(result).to.deep.equal({
      outcomes: [
        { name: 'w-0', status: 'kept', reason: 'holds data that cannot be moved' },
        { name: 'nobody', status: 'unknown', reason: 'no connected worker has this name' },
      ],
    });
    const statuses = s.log.filter(([, e]) => e.type === 'worker.updated' && (e as { status?: string }).status).map(([, e]) => (e as { status?: string }).status);
    expect(statuses).to.deep.equal(['closing', 'running']);
    // Kept means still in service: it runs the next task.
    await s.at(6);
    expect(transitions(s.log)).to.include('5 e-0 processing w-0');
  });

  it('retire: re-queues what the worker runs, and two workers retired together do not receive each other\'s data', async () => {
    // Infinite bandwidth: copies take no virtual time, so retire resolves without driving the clock.
    const s = await setup([task('d-0', 0, { nbytes: 10, holdFor: 100 }), task('d-1', 0, { nbytes: 20, holdFor: 100 }), task('long-0', 2, { duration: 50 })], { bandwidth: Infinity });
    s.connect('w-0');
    s.connect('w-1');
    await s.at(1.5);
    s.connect('w-2');
    await s.at(2);
    // All three have a free slot: ties go to the earliest registered.
    expect(transitions(s.log)).to.include('2 long-0 processing w-0');
    const result = await s.sched.retire(['w-0', 'w-1']);
    expect(result.outcomes.map((o) => [o.name, o.status, o.movedBytes])).to.deep.equal([
      ['w-0', 'retired', 10],
      ['w-1', 'retired', 20],
    ]);
    expect(s.sched.workerNames()).to.deep.equal(['w-2']);
    expect(s.sched.nbytesOf('w-2')).to.equal(30);
    expect(transitions(s.log).slice(-2)).to.deep.equal(['2 long-0 queued', '2 long-0 processing w-2']);
    expect(s.store.counts()).to.deep.equal({ workers: 1, queued: 0, unrunnable: 0, processing: 1 });
  });

  it('disconnect without retirement loses the results only that worker held and recomputes the ones still wanted', async () => {
    const s = await setup([task('r-0', 0, { duration: 1, nbytes: 100, holdFor: 30 }), task('run-0', 0, { duration: 100 })]);
    s.connect('w-0');
    await s.at(0);
    s.connect('w-1');
    await s.at(2);
    // r-0 ran on w-0 (done at 1), run-0 on w-1.
    s.connect('w-2');
    s.sched.disconnect('w-0');
    expect(s.sched.stats().resultsLost).to.equal(1);
    await s.at(3);
    expect(transitions(s.log).filter((l) => l.startsWith('2 '))).to.deep.equal(['2 r-0 released', '2 r-0 queued', '2 r-0 processing w-2']);
    expect(s.sched.nbytesOf('w-2')).to.equal(100);
    // Still released at its original time (computed at 1, held 30 s).
    await s.at(31);
    expect(transitions(s.log)).to.include('31 r-0 released');
    expect(s.sched.nbytesOf('w-2')).to.equal(0);
    // A worker that only runs a task loses nothing: its task starts over elsewhere.
    s.sched.disconnect('w-1');
    expect(s.sched.stats().resultsLost).to.equal(1);
    expect(transitions(s.log).slice(-2)).to.deep.equal(['31 run-0 queued', '31 run-0 processing w-2']);
  });

  it('reports the longest running time per prefix on each heartbeat while tasks run', async () => {
    const s = await setup([task('slow-0', 0, { duration: 3 }), task('slow-1', 1.5, { duration: 3 })], { heartbeatInterval: 1 });
    s.connect('w-0', 2);
    await s.at(10);
    const executing = s.log.filter(([, e]) => e.type === 'task.executing').map(([t, e]) => [t, (e as { elapsed: number }).elapsed]);
    expect(executing).to.deep.equal([
      [1, 1],
      [2, 2],
      [3, 1.5],
      [4, 2.5],
    ]);
    expect(s.store.snapshot(10).prefixes.slow!.maxExecTime).to.equal(2.5);
  });

  it('replays the current state to a late subscriber', async () => {
    const s = await setup([task('q-0', 0, { duration: 5 }), task('q-1', 0, { duration: 5 })]);
    s.connect('w-0');
    await s.at(1);
    const late = new SchedulerStateStore();
    s.sched.events$.subscribe((e) => late.apply(e));
    expect(late.counts()).to.deep.equal({ workers: 1, queued: 1, unrunnable: 0, processing: 1 });
  });
});
