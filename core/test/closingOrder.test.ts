import { expect } from 'chai';
import type { SchedulerEvent } from '../src/contracts/SchedulerEvent.js';
import { type WorkerInfo, isWorkerBusy } from '../src/contracts/WorkerInfo.js';
import type { WorkerKey } from '../src/contracts/WorkerKey.js';
import type { ClosingGroup, WorkersToCloseView } from '../src/contracts/WorkersToCloseView.js';
import { SchedulerStateStore } from '../src/state/SchedulerStateStore.js';

interface Row {
  workers: string[];
  idle: boolean;
  nbytes: number;
  memoryLimit: number;
}

/**
 * Dask's `workers_to_close` order computed from scratch from a snapshot's workers, written
 * independently of the store: groups (by key, or one per worker) of workers without long-running
 * tasks in order of first appearance, sorted idle first, then by bytes, ties later group first.
 */
function fromScratch(workers: readonly WorkerInfo[], key?: WorkerKey): { rows: Row[]; limit: number; bytes: number } {
  const groups = new Map<string, Row & { index: number }>();
  let limit = 0;
  let bytes = 0;
  for (const w of workers) {
    if (w.longRunning > 0) continue;
    const k = key ? `k:${key.key(w)}` : `w:${w.name}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { workers: [], idle: true, nbytes: 0, memoryLimit: 0, index: groups.size }));
    g.workers.push(w.name);
    g.idle &&= !isWorkerBusy(w);
    g.nbytes += w.nbytes;
    g.memoryLimit += w.memoryLimit;
    limit += w.memoryLimit;
    bytes += w.nbytes;
  }
  const rows = [...groups.values()]
    .sort((a, b) => Number(b.idle) - Number(a.idle) || a.nbytes - b.nbytes || b.index - a.index)
    .map(({ workers: ws, idle, nbytes, memoryLimit }) => ({ workers: ws, idle, nbytes, memoryLimit }));
  return { rows, limit, bytes };
}

function walked(view: WorkersToCloseView): Row[] {
  const rows: Row[] = [];
  view.walk((g: ClosingGroup) => {
    expect(g.size).to.equal(g.workers.length);
    rows.push({ workers: [...g.workers], idle: g.idle, nbytes: g.nbytes, memoryLimit: g.memoryLimit });
    return true;
  });
  return rows;
}

const byHost: WorkerKey = { key: (w) => w.host };
const byJob: WorkerKey = { key: (w) => w.labels.job ?? `solo-${w.name}` };
/** A key that reads what changes most: a worker's group moves as its bytes do. */
const byBytes: WorkerKey = { key: (w) => (w.nbytes > 400 ? 'heavy' : 'light') };
const KEYS: Array<[string, WorkerKey | undefined]> = [
  ['without a key', undefined],
  ['by host', byHost],
  ['by job label', byJob],
  ['by a key that reads bytes', byBytes],
];

/** Deterministic pseudo-random events over a few workers, hosts, jobs and task keys. */
function randomEvents(seed: number, steps: number): SchedulerEvent[] {
  let s = seed;
  const rand = (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const events: SchedulerEvent[] = [];
  for (let step = 0; step < steps; step++) {
    const r = rand(20);
    const name = names[rand(names.length)]!;
    const key = `k-${rand(40)}`;
    const labels: Record<string, string> = rand(3) ? { job: `j${rand(3)}` } : {};
    if (r < 2) {
      events.push({
        type: 'worker.added',
        worker: { name, address: name, host: `h${rand(3)}`, nthreads: 1 + rand(3), memoryLimit: 100 * rand(10), nbytes: rand(5) ? 50 * rand(16) : 0, status: 'running', labels },
      });
    } else if (r === 2) {
      events.push({ type: 'worker.removed', name });
    } else if (r === 3) {
      events.push({ type: 'worker.updated', name, nbytes: 50 * rand(16) });
    } else if (r === 4) {
      events.push({ type: 'worker.updated', name, memoryLimit: 100 * rand(10), ...(rand(2) ? { labels } : {}) });
    } else if (r === 5) {
      events.push({ type: 'task.seceded', key });
    } else if (r === 6 && rand(10) === 0) {
      // A polling adapter's full state: the same workers, some changed, in registration order.
      events.push({ type: 'snapshot', snapshot: { time: step, workers: [], prefixes: {} } });
    } else {
      const to = (['queued', 'processing', 'processing', 'processing', 'memory', 'released', 'unrunnable'] as const)[rand(7)]!;
      events.push({ type: 'task.transition', key, prefix: `p${rand(3)}`, to, worker: name });
    }
  }
  return events;
}

/**
 * Full snapshots carry workers; the generator leaves them empty and this fills them from the
 * store's own state, as a poll would see it later: some workers changed, one gone, one new at the
 * end — or, now and then, in another order (the store then starts over).
 */
function withWorkers(event: SchedulerEvent, store: SchedulerStateStore, step: number): SchedulerEvent {
  if (event.type !== 'snapshot') return event;
  let workers: WorkerInfo[] = store.snapshot(step).workers.map((w, i) => (i % 2 ? { ...w, nbytes: w.nbytes + 50, processing: i % 4 === 1 ? { p0: 1 } : {} } : w));
  if (step % 3 === 0) workers = workers.slice(1);
  if (step % 3 === 1) workers.push({ name: `new-${step}`, address: 'n', host: 'h1', nthreads: 1, memoryLimit: 300, nbytes: 0, processing: {}, longRunning: 0, status: 'running', labels: {} });
  if (step % 5 === 2) workers.reverse();
  return { type: 'snapshot', snapshot: { time: step, workers, prefixes: {} } };
}

function expectSameOrder(store: SchedulerStateStore, key: WorkerKey | undefined, where: string): void {
  const snapshot = store.snapshot(0);
  const view = snapshot.closingOrder!(key)!;
  const expected = fromScratch(snapshot.workers, key);
  expect(walked(view), where).to.deep.equal(expected.rows);
  expect(view.workerCount, where).to.equal(snapshot.workers.length);
  expect(view.idleWorkers, where).to.equal(snapshot.workers.filter((w) => !isWorkerBusy(w)).length);
  expect(view.candidateMemoryLimit, where).to.equal(expected.limit);
  expect(view.candidateBytes, where).to.equal(expected.bytes);
  for (const w of snapshot.workers) expect(view.has(w.name), where).to.equal(true);
  expect(view.has('nobody'), where).to.equal(false);
  // The running sums the heuristic reads stay those over the workers, snapshot events included.
  const processing: Record<string, number> = {};
  let workerTasks = 0;
  for (const w of snapshot.workers) {
    workerTasks += w.longRunning;
    for (const [p, n] of Object.entries(w.processing)) {
      processing[p] = (processing[p] ?? 0) + n;
      workerTasks += n;
    }
  }
  expect(snapshot.totals, where).to.deep.equal({
    processing,
    workerTasks,
    nthreads: snapshot.workers.reduce((a, w) => a + w.nthreads, 0),
    memoryLimit: snapshot.workers.reduce((a, w) => a + w.memoryLimit, 0),
    nbytes: snapshot.workers.reduce((a, w) => a + w.nbytes, 0),
  });
}

describe('the state store closing order', () => {
  for (const seed of [1, 2]) {
    it(`equals the from-scratch order after every step of 2,500 random worker and task events, with and without worker keys (seed ${seed})`, () => {
      const store = new SchedulerStateStore();
      for (const [step, raw] of randomEvents(seed, 2500).entries()) {
        store.apply(withWorkers(raw, store, step));
        for (const [name, key] of KEYS) expectSameOrder(store, key, `seed ${seed}, step ${step} (${raw.type}), ${name}`);
      }
    });
  }

  it('folds in many changes at once when asked only now and then', () => {
    const store = new SchedulerStateStore();
    for (const [step, raw] of randomEvents(11, 6000).entries()) {
      store.apply(withWorkers(raw, store, step));
      if (step % 97 === 0) for (const [name, key] of KEYS) expectSameOrder(store, key, `step ${step}, ${name}`);
    }
  });

  it('keeps more orders than it holds at once correct: the least recently used one is rebuilt', () => {
    const store = new SchedulerStateStore();
    const keys: WorkerKey[] = Array.from({ length: 7 }, (_, i) => ({ key: (w: WorkerInfo) => `${i}:${w.host}` }));
    for (const [step, raw] of randomEvents(5, 1500).entries()) {
      store.apply(withWorkers(raw, store, step));
      const key = keys[step % keys.length]!;
      expectSameOrder(store, key, `step ${step}, key ${step % keys.length}`);
    }
  });

  it('hands out the same view while nothing it shows changed, and a stale one refuses to be read', () => {
    const store = new SchedulerStateStore();
    for (const name of ['a', 'b']) {
      store.apply({ type: 'worker.added', worker: { name, address: name, host: 'h', nthreads: 1, memoryLimit: 100, nbytes: 0, status: 'running', labels: {} } });
    }
    store.apply({ type: 'task.transition', key: 't1', prefix: 'p', to: 'processing', worker: 'a' });
    const first = store.snapshot(1);
    const view = first.closingOrder!()!;
    // A second task on a busy worker changes nothing the order shows.
    store.apply({ type: 'task.transition', key: 't2', prefix: 'p', to: 'processing', worker: 'a' });
    expect(first.closingOrder!(), 'an older snapshot has no view of a newer state').to.equal(undefined);
    const second = store.snapshot(2);
    expect(second.closingOrder!()).to.equal(view);
    expect(second.workers).to.not.equal(first.workers);
    // Nothing changed at all: the snapshot's parts are shared.
    const third = store.snapshot(3);
    expect(third.workers).to.equal(second.workers);
    expect(third.prefixes).to.equal(second.prefixes);
    expect(Object.keys(third), 'the closing order is not part of the data').to.deep.equal(['time', 'workers', 'prefixes', 'totals']);
    expect(JSON.parse(JSON.stringify(third))).to.not.have.property('closingOrder');
    // Worker b gets busy: the order changes, the old view may no longer be read.
    store.apply({ type: 'task.transition', key: 't3', prefix: 'p', to: 'processing', worker: 'b' });
    const fourth = store.snapshot(4);
    const next = fourth.closingOrder!()!;
    expect(next).to.not.equal(view);
    expect(() => view.walk(() => true)).to.throw(/after its state store changed/);
    expect(next.idleWorkers).to.equal(0);
  });

  it('a poll that changes nothing keeps the worker objects and the view; one that changes a worker re-places only it', () => {
    const store = new SchedulerStateStore();
    const worker = (name: string, nbytes: number): WorkerInfo => ({ name, address: name, host: 'h', nthreads: 1, memoryLimit: 1000, nbytes, processing: {}, longRunning: 0, status: 'running', labels: {} });
    const poll = (workers: WorkerInfo[]) => store.apply({ type: 'snapshot', snapshot: { time: 0, workers, prefixes: {} } });
    poll([worker('a', 10), worker('b', 20), worker('c', 30)]);
    const first = store.snapshot(1);
    const view = first.closingOrder!()!;
    poll([worker('a', 10), worker('b', 20), worker('c', 30)]);
    const second = store.snapshot(2);
    expect(second.workers).to.deep.equal(first.workers);
    second.workers.forEach((w, i) => expect(w, 'the same frozen worker').to.equal(first.workers[i]));
    expect(second.closingOrder!()).to.equal(view);
    poll([worker('a', 10), worker('b', 5), worker('c', 30)]);
    const third = store.snapshot(3);
    expect(third.workers[0]).to.equal(first.workers[0]);
    expect(third.workers[1]).to.not.equal(first.workers[1]);
    expect(walked(third.closingOrder!()!).map((r) => r.workers[0])).to.deep.equal(['b', 'a', 'c']);
  });

  it('a worker key that throws leaves no half-built order behind', () => {
    const store = new SchedulerStateStore();
    store.apply({ type: 'worker.added', worker: { name: 'a', address: 'a', host: 'h', nthreads: 1, memoryLimit: 100, nbytes: 0, status: 'running', labels: {} } });
    let broken = true;
    const key: WorkerKey = {
      key: (w) => {
        if (broken) throw new Error('key failed');
        return w.host;
      },
    };
    expect(() => store.closingOrder(key)).to.throw('key failed');
    broken = false;
    expectSameOrder(store, key, 'after the failure');
  });
});
