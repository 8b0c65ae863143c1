import { expect } from 'chai';
import { SchedulerStateStore } from '../src/state/SchedulerStateStore.js';
import { keySplit } from '../src/state/keySplit.js';

function addWorker(store: SchedulerStateStore, name: string, nthreads = 1) {
  store.apply({
    type: 'worker.added',
    worker: { name, address: `tcp://127.0.0.1:${name.length}`, host: '127.0.0.1', nthreads, memoryLimit: 1000, nbytes: 0, status: 'running', labels: {} },
  });
}

describe('SchedulerStateStore', () => {
  it('tracks queued, processing per prefix per worker, and completion', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'a');
    addWorker(s, 'b');
    for (let i = 0; i < 5; i++) s.apply({ type: 'task.transition', key: `inc-${i}`, prefix: 'inc', to: 'queued' });
    s.apply({ type: 'task.transition', key: 'inc-0', to: 'processing', worker: 'a' });
    s.apply({ type: 'task.transition', key: 'inc-1', to: 'processing', worker: 'b' });
    s.apply({ type: 'task.transition', key: 'load-x', prefix: 'load', to: 'processing', worker: 'b' });
    let snap = s.snapshot(1);
    expect(snap.workers.map((w) => [w.name, w.processing])).to.deep.equal([
      ['a', { inc: 1 }],
      ['b', { inc: 1, load: 1 }],
    ]);
    expect(snap.prefixes.inc).to.include({ queued: 3, unrunnable: 0, durationAverage: -1 });
    expect(s.counts()).to.deep.equal({ workers: 2, queued: 3, unrunnable: 0, processing: 3 });

    s.apply({ type: 'task.transition', key: 'inc-0', to: 'memory', duration: 2 });
    s.apply({ type: 'task.transition', key: 'inc-1', to: 'memory', duration: 4 });
    snap = s.snapshot(2);
    expect(snap.workers[0]!.processing).to.deep.equal({});
    // EWMA alpha 0.5: first 2, then 0.5*4 + 0.5*2 = 3.
    expect(snap.prefixes.inc!.durationAverage).to.equal(3);
    expect(s.trackedTasks).to.equal(4);
  });

  it('forgets a duration when a task runs more than twice the average, and keeps the max exec time', () => {
    const s = new SchedulerStateStore();
    s.apply({ type: 'task.transition', key: 'f-1', prefix: 'f', to: 'queued' });
    s.apply({ type: 'task.transition', key: 'f-1', to: 'memory', duration: 1 });
    s.apply({ type: 'task.executing', prefix: 'f', elapsed: 1.5 });
    expect(s.snapshot(0).prefixes.f).to.include({ durationAverage: 1, maxExecTime: 1.5 });
    s.apply({ type: 'task.executing', prefix: 'f', elapsed: 2.5 });
    expect(s.snapshot(0).prefixes.f).to.include({ durationAverage: -1, maxExecTime: 2.5 });
  });

  it('seeds new prefixes from default task durations', () => {
    const s = new SchedulerStateStore({ defaultTaskDurations: { slowinc: 10 } });
    s.apply({ type: 'task.transition', key: 'slowinc-1', to: 'queued' });
    expect(s.snapshot(0).prefixes.slowinc!.durationAverage).to.equal(10);
    s.apply({ type: 'task.transition', key: 'slowinc-1', to: 'memory', duration: 2 });
    expect(s.snapshot(0).prefixes.slowinc!.durationAverage).to.equal(6);
  });

  it('moves seceded tasks out of occupancy into longRunning', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'a');
    s.apply({ type: 'task.transition', key: 'client-1', prefix: 'client', to: 'processing', worker: 'a' });
    s.apply({ type: 'task.seceded', key: 'client-1', computeDuration: 4 });
    const w = s.snapshot(0).workers[0]!;
    expect(w.processing).to.deep.equal({});
    expect(w.longRunning).to.equal(1);
    expect(s.snapshot(0).prefixes.client!.durationAverage).to.equal(4);
    s.apply({ type: 'task.transition', key: 'client-1', to: 'memory' });
    expect(s.snapshot(0).workers[0]!.longRunning).to.equal(0);
    expect(s.counts().processing).to.equal(0);
  });

  it('drops a removed worker and ignores late events for its tasks', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'a');
    s.apply({ type: 'task.transition', key: 'x-1', prefix: 'x', to: 'processing', worker: 'a' });
    s.apply({ type: 'worker.removed', name: 'a' });
    expect(s.counts()).to.deep.equal({ workers: 0, queued: 0, unrunnable: 0, processing: 0 });
    addWorker(s, 'a');
    s.apply({ type: 'task.transition', key: 'x-1', to: 'queued' });
    expect(s.snapshot(0).workers[0]!.processing).to.deep.equal({});
    expect(s.counts()).to.deep.equal({ workers: 1, queued: 1, unrunnable: 0, processing: 0 });
  });

  it('counts a task assigned to an unknown worker as waiting for one', () => {
    const s = new SchedulerStateStore();
    s.apply({ type: 'task.transition', key: 'x-1', prefix: 'x', to: 'processing', worker: 'ghost' });
    expect(s.snapshot(0).prefixes.x).to.include({ unrunnable: 1 });
  });

  it('applies worker updates and keeps registration order', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'b');
    addWorker(s, 'a');
    s.apply({ type: 'worker.updated', name: 'a', nbytes: 500, status: 'closing' });
    const snap = s.snapshot(0);
    expect(snap.workers.map((w) => w.name)).to.deep.equal(['b', 'a']);
    expect(snap.workers[1]).to.include({ nbytes: 500, status: 'closing' });
  });

  it('a snapshot event replaces the state but keeps learned durations of absent prefixes', () => {
    const s = new SchedulerStateStore();
    s.apply({ type: 'task.transition', key: 'old-1', prefix: 'old', to: 'queued' });
    s.apply({ type: 'task.transition', key: 'old-1', to: 'memory', duration: 3 });
    s.apply({
      type: 'snapshot',
      snapshot: {
        time: 5,
        workers: [{ name: 'w', address: 'a', host: 'h', nthreads: 2, memoryLimit: 0, nbytes: 7, processing: { p: 2 }, longRunning: 1, status: 'running', labels: {} }],
        prefixes: { p: { durationAverage: 1, maxExecTime: -1, queued: 4, unrunnable: 1 } },
      },
    });
    expect(s.counts()).to.deep.equal({ workers: 1, queued: 4, unrunnable: 1, processing: 3 });
    const snap = s.snapshot(6);
    expect(snap.prefixes.old).to.include({ durationAverage: 3, queued: 0 });
    expect(snap.workers[0]!.processing).to.deep.equal({ p: 2 });
  });

  it('tracks the connection flag', () => {
    const s = new SchedulerStateStore();
    s.apply({ type: 'connection', connected: false, reason: 'test' });
    expect(s.connected).to.equal(false);
    s.apply({ type: 'connection', connected: true });
    expect(s.connected).to.equal(true);
  });

  it('costs O(1) per event: 100k tasks through their life leave nothing tracked', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'a', 4);
    for (let i = 0; i < 100_000; i++) {
      const key = `t-${i}`;
      s.apply({ type: 'task.transition', key, prefix: 't', to: 'queued' });
      s.apply({ type: 'task.transition', key, to: 'processing', worker: 'a' });
      s.apply({ type: 'task.transition', key, to: 'memory', duration: 0.001 });
    }
    expect(s.trackedTasks).to.equal(0);
    expect(s.counts()).to.deep.equal({ workers: 1, queued: 0, unrunnable: 0, processing: 0 });
  });
});

describe('SchedulerStateStore lookups for the loop', () => {
  it('connectedNames is one frozen list while nobody joins or leaves, and a new one after', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'a');
    addWorker(s, 'b');
    const first = s.connectedNames();
    expect(first).to.deep.equal(['a', 'b']);
    expect(Object.isFrozen(first)).to.equal(true);
    s.apply({ type: 'task.transition', key: 'x-1', prefix: 'x', to: 'processing', worker: 'a' });
    s.apply({ type: 'worker.updated', name: 'b', nbytes: 5 });
    expect(s.connectedNames()).to.equal(first);
    addWorker(s, 'c');
    const second = s.connectedNames();
    expect(second).to.deep.equal(['a', 'b', 'c']);
    s.apply({ type: 'worker.removed', name: 'a' });
    expect(s.connectedNames()).to.deep.equal(['b', 'c']);
    expect(first).to.deep.equal(['a', 'b']);
  });

  it('worker(name) is the object the current snapshot shows, and undefined once gone', () => {
    const s = new SchedulerStateStore();
    addWorker(s, 'a');
    s.apply({ type: 'task.transition', key: 'x-1', prefix: 'x', to: 'processing', worker: 'a' });
    expect(s.worker('a')).to.equal(s.snapshot(1).workers[0]);
    expect(s.worker('a')!.processing).to.deep.equal({ x: 1 });
    s.apply({ type: 'worker.updated', name: 'a', nbytes: 7 });
    expect(s.worker('a')!.nbytes).to.equal(7);
    expect(s.worker('a')).to.equal(s.snapshot(2).workers[0]);
    s.apply({ type: 'worker.removed', name: 'a' });
    expect(s.worker('a')).to.equal(undefined);
    expect(s.worker('constructor')).to.equal(undefined);
  });
});

describe('keySplit', () => {
  const cases: Array<[string, string]> = [
    ['slowinc-ab12cd34ef56ab12', 'slowinc'],
    ['inc-1', 'inc'],
    ['load-data-3', 'load-data'],
    ["('x-1', 0)", 'x'],
    ['plain', 'plain'],
    ['sum-aggregate-8d7f6e5c4b3a2910', 'sum-aggregate'],
  ];
  for (const [key, prefix] of cases) it(`${key} -> ${prefix}`, () => expect(keySplit(key)).to.equal(prefix));
});

describe('SchedulerStateStore totals', () => {
  /** Deterministic pseudo-random events: every snapshot's totals must equal the sums over its workers. */
  it('keep the sums over workers exactly, through random adds, updates, removals and task moves', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const s = new SchedulerStateStore();
    const names = ['a', 'b', 'c', 'd'];
    const prefixes = ['x', 'y', 'z'];
    for (let step = 0; step < 5000; step++) {
      const r = rand(10);
      const name = names[rand(names.length)]!;
      const key = `k-${rand(60)}`;
      if (r === 0) {
        s.apply({ type: 'worker.added', worker: { name, address: name, host: 'h', nthreads: 1 + rand(4), memoryLimit: rand(1000), nbytes: rand(500), status: 'running', labels: {} } });
      } else if (r === 1) {
        s.apply({ type: 'worker.removed', name });
      } else if (r === 2) {
        s.apply({ type: 'worker.updated', name, nbytes: rand(800), nthreads: 1 + rand(3) });
      } else if (r === 3) {
        s.apply({ type: 'task.seceded', key });
      } else {
        const to = (['queued', 'processing', 'processing', 'memory', 'released', 'unrunnable'] as const)[rand(6)]!;
        s.apply({ type: 'task.transition', key, prefix: prefixes[rand(3)]!, to, worker: name });
      }
      const snap = s.snapshot(step);
      const processing: Record<string, number> = {};
      let workerTasks = 0;
      for (const w of snap.workers) {
        workerTasks += w.longRunning;
        for (const [p, n] of Object.entries(w.processing)) {
          processing[p] = (processing[p] ?? 0) + n;
          workerTasks += n;
        }
      }
      expect(snap.totals, `step ${step}`).to.deep.equal({
        processing,
        workerTasks,
        nthreads: snap.workers.reduce((a, w) => a + w.nthreads, 0),
        memoryLimit: snap.workers.reduce((a, w) => a + w.memoryLimit, 0),
        nbytes: snap.workers.reduce((a, w) => a + w.nbytes, 0),
      });
      expect(s.counts().processing).to.equal(workerTasks);
    }
  });
});
