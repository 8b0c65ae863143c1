import { expect } from 'chai';
import {
  type DaskWorkerView,
  PrefixDurations,
  ProcessingAges,
  SnapshotBuilder,
  type TaskStreamEntry,
  TaskStreamCursor,
  countPending,
  keyId,
  parseIdentity,
  pendingCandidates,
  workerInfos,
} from '../src/index.js';

function view(address: string, overrides: Partial<DaskWorkerView> = {}): DaskWorkerView {
  return {
    address,
    name: address.slice(-2),
    host: '127.0.0.1',
    nthreads: 1,
    memoryLimit: 1000,
    managedBytes: 0,
    status: 'running',
    daskStatus: 'running',
    resources: {},
    ...overrides,
  };
}

function done(key: string | Array<string | number>, start: number, stop: number, status = 'OK'): TaskStreamEntry {
  return { key, status, worker: 'tcp://w', startstops: [{ action: 'compute', start, stop }] };
}

describe('parseIdentity', () => {
  it('keeps the scheduler order, stringifies names and reads the heartbeat metrics', () => {
    const workers = parseIdentity({
      workers: {
        'tcp://127.0.0.1:2': {
          name: 0,
          host: '127.0.0.1',
          nthreads: 2,
          memory_limit: 0,
          status: 'closing_gracefully',
          resources: { GPU: 1 },
          metrics: { managed_bytes: 123, memory: 999_999, task_counts: { executing: 1, 'long-running': 1 } },
        },
        'tcp://127.0.0.1:1': { name: 'w1', nthreads: 1, memory_limit: 5, status: 'paused', metrics: {} },
      },
    });
    expect(workers.map((w) => [w.address, w.name, w.status])).to.deep.equal([
      ['tcp://127.0.0.1:2', '0', 'closing'],
      ['tcp://127.0.0.1:1', 'w1', 'paused'],
    ]);
    expect(workers[0]).to.include({ managedBytes: 123, longRunning: 1, executing: 1, nthreads: 2 });
    expect(workers[0]!.resources).to.deep.equal({ GPU: 1 });
    expect(workers[1]).to.include({ host: '127.0.0.1', managedBytes: 0 });
    expect(workers[1]).not.to.have.property('longRunning');
  });

  it('reads task_counts from a newer worker, which leaves out states with no task, as 0', () => {
    const [idle, busy] = parseIdentity({
      workers: {
        'tcp://127.0.0.1:1': { name: 'a', nthreads: 1, metrics: { task_counts: {} } },
        'tcp://127.0.0.1:2': { name: 'b', nthreads: 1, metrics: { task_counts: { executing: 1, memory: 3 } } },
      },
    });
    expect(idle).to.include({ longRunning: 0, executing: 0 });
    expect(busy).to.include({ longRunning: 0, executing: 1 });
  });

  it('rejects a reply without workers as SCHEDULER_PROTOCOL', () => {
    expect(() => parseIdentity({ type: 'Scheduler' })).to.throw(/unexpected shape/).with.property('code', 'SCHEDULER_PROTOCOL');
  });
});

describe('pendingCandidates / countPending', () => {
  it('asks only about prefixes with more tasks than their five reported states', () => {
    const whoHas = { 'a-1': ['tcp://w'], 'a-2': [], 'a-3': [], 'b-1': [], 'b-2': [], [keyId(['c-1', 0])]: [] };
    const states = {
      a: { memory: 1, erred: 0, released: 0, processing: 1, waiting: 0 }, // a-2 processing, a-3 unaccounted
      b: { memory: 0, erred: 0, released: 0, processing: 0, waiting: 2 }, // all accounted: skip
    };
    expect(pendingCandidates(whoHas, new Set(['a-2']), states)).to.deep.equal(['a-3', keyId(['c-1', 0])]);
  });

  it('counts queued and no-worker per prefix (with the no-worker ids, for their restrictions), ignoring other states and forgotten tasks', () => {
    const counts = countPending({ 'a-1': 'queued', 'a-2': 'queued', 'a-3': 'waiting', 'g-1': 'no-worker', [keyId(['a-9', 1])]: 'no-worker', 'z-1': null });
    expect(Object.fromEntries(counts)).to.deep.equal({
      a: { queued: 2, unrunnable: 1, unrunnableIds: [keyId(['a-9', 1])] },
      g: { queued: 0, unrunnable: 1, unrunnableIds: ['g-1'] },
    });
  });
});

describe('workerInfos', () => {
  it('takes the oldest tasks as long-running and the next as executing', () => {
    const since: Record<string, number> = { 'x-1': 10, 'y-1': 12, 'x-2': 15, 'x-3': 15 };
    const { workers, executing } = workerInfos(
      [view('tcp://h:1', { longRunning: 1, executing: 1, managedBytes: 77 })],
      new Map([['tcp://h:1', ['x-3', 'x-2', 'y-1', 'x-1']]]),
      (id) => since[id],
      20,
    );
    expect(workers[0]).to.deep.include({ longRunning: 1, processing: { y: 1, x: 2 }, nbytes: 77, labels: {} });
    expect(executing).to.deep.equal([{ prefix: 'y', elapsed: 8 }]);
  });

  it('without heartbeat metrics, up to nthreads tasks count as executing and none as long-running', () => {
    const { workers, executing } = workerInfos(
      [view('tcp://h:1', { nthreads: 2 }), view('tcp://h:2')],
      new Map([['tcp://h:1', ['a-1', 'a-2', 'a-3']]]),
      () => undefined,
      5,
    );
    expect(workers.map((w) => [w.name, w.processing, w.longRunning])).to.deep.equal([
      [':1', { a: 3 }, 0],
      [':2', {}, 0],
    ]);
    expect(executing).to.deep.equal([
      { prefix: 'a', elapsed: 0 },
      { prefix: 'a', elapsed: 0 },
    ]);
  });

  it('clamps stale heartbeat counts to the tasks actually assigned', () => {
    const { workers } = workerInfos([view('tcp://h:1', { longRunning: 5, executing: 3 })], new Map([['tcp://h:1', ['a-1']]]), () => 0, 1);
    expect(workers[0]).to.deep.include({ longRunning: 1, processing: {} });
  });
});

describe('PrefixDurations', () => {
  it("learns an EWMA with alpha 0.5 from successful computes, like Dask's TaskPrefix", () => {
    const d = new PrefixDurations();
    d.observeCompletions([done('nap-1', 0, 2), done('nap-2', 0, 4), done('nap-3', 0, 100, 'error'), done(['nap-ab12cd34', 1], 10, 12)]);
    expect(d.get('nap').durationAverage).to.equal(0.5 * 2 + 0.5 * (0.5 * 4 + 0.5 * 2));
  });

  it('forgets the average when a task runs longer than twice it, and keeps the max', () => {
    const d = new PrefixDurations({ load: 1 });
    expect(d.get('load')).to.deep.equal({ durationAverage: 1, maxExecTime: -1 });
    d.observeExecuting('load', 1.5);
    expect(d.get('load')).to.deep.equal({ durationAverage: 1, maxExecTime: 1.5 });
    d.observeExecuting('load', 2.5);
    d.observeExecuting('load', 0.1);
    expect(d.get('load')).to.deep.equal({ durationAverage: -1, maxExecTime: 2.5 });
  });
});

describe('TaskStreamCursor', () => {
  const entries = (n: number, from = 0) => [...Array(n).keys()].map((i) => done(`t-${from + i}`, from + i, from + i + 0.5));

  it('reads recent history first, then only what follows the newest entry read', () => {
    const c = new TaskStreamCursor();
    expect(c.args()).to.deep.equal({ count: 1000 });
    expect(c.accept([], 1000)).to.deep.equal({ fresh: [] }); // the first call enables the plugin
    expect(c.args()).to.deep.equal({ count: 1000 });
    const first = entries(3);
    expect(c.accept(first, 1000)).to.deep.equal({ fresh: first });
    expect(c.args()).to.deep.equal({ count: 8 });
    // The tail now holds the last two old entries and two new ones.
    const tail = [...first.slice(1), ...entries(2, 3)];
    expect(c.accept(tail, 8)).to.deep.equal({ fresh: entries(2, 3) });
    expect(c.accept(entries(1, 4), 8)).to.deep.equal({ fresh: [] });
  });

  it('relies on buffer order, not stop times: an entry recorded late with an earlier stop is new', () => {
    const c = new TaskStreamCursor();
    c.accept(entries(2), 1000);
    const late = done('late-1', 0, 0.1);
    expect(c.accept([...entries(2), late], 8)).to.deep.equal({ fresh: [late] });
  });

  it('asks again with 4x the count when the newest entry read fell out of the tail', () => {
    const c = new TaskStreamCursor();
    c.accept(entries(1), 1000);
    expect(c.accept(entries(8, 10), 8)).to.deep.equal({ retryCount: 32 });
    expect(c.accept([...entries(1), ...entries(20, 10)], 32)).to.deep.equal({ fresh: entries(20, 10) });
    expect(c.args()).to.deep.equal({ count: 40 });
  });

  it('takes the whole reply as new when it is the whole buffer (a restarted scheduler)', () => {
    const c = new TaskStreamCursor();
    c.accept(entries(5), 1000);
    expect(c.accept(entries(3, 100), 8)).to.deep.equal({ fresh: entries(3, 100) });
  });
});

describe('ProcessingAges', () => {
  it('remembers the first sighting and forgets tasks that stopped processing', () => {
    const ages = new ProcessingAges();
    ages.observe(1, ['a', 'b']);
    ages.observe(2, ['b', 'c']);
    expect([ages.since('a'), ages.since('b'), ages.since('c'), ages.size]).to.deep.equal([undefined, 1, 2, 2]);
  });
});

describe('SnapshotBuilder', () => {
  it('combines workers, pending counts and learned durations into one snapshot', () => {
    const b = new SnapshotBuilder({ load: 3 });
    const raw = {
      workers: [view('tcp://h:2'), view('tcp://h:1')],
      processing: new Map([['tcp://h:2', ['block-1']], ['tcp://h:1', []]]),
      pending: new Map([['block', { queued: 4, unrunnable: 0 }], ['gpu', { queued: 0, unrunnable: 1 }]]),
      stream: [done('nap-1', 0, 0.5)],
      tasks: 7,
      statusQueried: 5,
    };
    const s1 = b.build(raw, 50);
    expect(s1.time).to.equal(50);
    expect(s1.workers.map((w) => w.name)).to.deep.equal([':2', ':1']);
    expect(s1.prefixes).to.deep.equal({
      nap: { durationAverage: 0.5, maxExecTime: -1, queued: 0, unrunnable: 0 },
      block: { durationAverage: -1, maxExecTime: 0, queued: 4, unrunnable: 0 },
      gpu: { durationAverage: -1, maxExecTime: -1, queued: 0, unrunnable: 1 },
    });
    // A later poll: block-1 has run for 3 s; nothing new completed.
    const s2 = b.build({ ...raw, pending: new Map(), stream: [] }, 53);
    expect(s2.prefixes['block']).to.deep.equal({ durationAverage: -1, maxExecTime: 3, queued: 0, unrunnable: 0 });
    expect(s2.prefixes['nap']!.durationAverage).to.equal(0.5);
  });
});
