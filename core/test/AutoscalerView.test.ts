import { expect } from 'chai';
import type { TestScheduler } from 'rxjs/testing';
import { Autoscaler } from '../src/runtime/Autoscaler.js';
import { Kernel } from '../src/plugins/Kernel.js';
import { definePlugin } from '../src/plugins/EbbtidePlugin.js';
import { MemoryLogger } from '../src/logging/Logger.js';
import { FakeBackend, FakeScheduler, advance } from '../src/testing/fakes.js';
import { ScriptedHeuristic, keepFirst, newTestScheduler } from './helpers.js';

const heuristic = new ScriptedHeuristic();
const testPlugin = definePlugin({
  name: 'test-view',
  register(r) {
    r.heuristic('scripted', class {
      target = heuristic.target.bind(heuristic);
    });
    r.workersToClose('keep-first', class {
      select = keepFirst.select;
    });
    r.workerKey('by-name', class {
      key(w: { name: string }) {
        return w.name;
      }
    });
  },
});

async function start(rx: TestScheduler, flags: Record<string, string> = {}) {
  const kernel = await Kernel.create({
    builtins: [testPlugin],
    rxScheduler: rx,
    logger: new MemoryLogger('debug'),
    sources: {
      env: {},
      flags: {
        heuristic: 'scripted',
        workersToClose: 'keep-first',
        workerKey: 'by-name',
        'cluster.name': 'c',
        'cluster.nthreads': '2',
        'cluster.memoryLimit': '1000',
        'adaptive.waitCount': '1',
        ...flags,
      },
    },
  });
  const scheduler = new FakeScheduler();
  const backend = new FakeBackend();
  const auto = await Autoscaler.start(kernel, { scheduler, backend });
  const connect = (name: string, nbytes = 0) =>
    scheduler.emit({ type: 'worker.added', worker: { name, address: `tcp://h/${name}`, host: 'h', nthreads: 2, memoryLimit: 1000, nbytes, status: 'running', labels: {} } });
  return { auto, scheduler, backend, connect };
}

describe('Autoscaler: history and worker view', () => {
  beforeEach(() => {
    heuristic.value = 0;
  });

  it('keeps every record in the history, folding quiet ticks, and numbers the shutdown record after the last tick', async () => {
    const rx = newTestScheduler();
    const { auto } = await start(rx);
    await advance(rx, 3000, 1000);
    heuristic.value = 1;
    await advance(rx, 1000);
    expect(auto.history.since(0).map((e) => [e.id, e.tick, e.count, e.decision.recommendation.status])).to.deep.equal([
      [1, 3, 3, 'same'],
      [4, 4, 1, 'up'],
    ]);
    await auto.shutdown('test');
    const last = auto.history.last()!;
    expect(last.tick).to.equal(5);
    expect(last.decision.outcome!.status).to.equal('shutdown');
    expect(last.decision.mode).to.equal('adaptive');
  });

  it('keeps adaptive.historyLength entries', async () => {
    const rx = newTestScheduler();
    const { auto } = await start(rx, { 'adaptive.historyLength': '2' });
    expect(auto.history.capacity).to.equal(2);
    for (const v of [1, 2, 3]) {
      heuristic.value = v;
      await advance(rx, 1000);
    }
    expect(auto.history.since(0).map((e) => e.decision.recommendation)).to.deep.equal([
      { status: 'up', n: 2 },
      { status: 'up', n: 3 },
    ]);
    await auto.shutdown('test');
  });

  it('the worker table follows a worker from requested to running, with its age, and forgets it once gone', async () => {
    const rx = newTestScheduler();
    const { auto, backend, scheduler, connect } = await start(rx);
    heuristic.value = 1;
    await advance(rx, 1000);
    expect(auto.view.workers().map((w) => [w.name, w.state, w.backend, w.threads, w.memoryLimit, w.pool, w.age])).to.deep.equal([['c-0', 'pending', 'pending', 2, 1000, 'default', 0]]);
    backend.set([{ name: 'c-0', phase: 'running' }]);
    await advance(rx, 2000, 1000);
    expect(auto.view.workers()[0]).to.deep.include({ state: 'starting', connected: false, age: 2 });
    connect('c-0', 300);
    connect('other-7');
    const rows = auto.view.workers();
    expect(rows.map((w) => [w.name, w.state, w.connected, w.managed, w.pool, w.nbytes])).to.deep.equal([
      ['c-0', 'running', true, true, 'default', 300],
      ['other-7', 'running', true, false, null, 0],
    ]);
    scheduler.emit({ type: 'worker.removed', name: 'other-7' });
    heuristic.value = 0;
    await advance(rx, 1000);
    // Retired and stopped: the backend reported it exited.
    expect(auto.view.workers()).to.deep.equal([]);
    expect(auto.view.gone().map((g) => g.name)).to.deep.equal(['c-0']);
    await auto.shutdown('test');
  });

  it('a worker that was connected and is no longer, still running in the backend, is lost', async () => {
    const rx = newTestScheduler();
    const { auto, backend, scheduler, connect } = await start(rx);
    heuristic.value = 1;
    await advance(rx, 1000);
    backend.set([{ name: 'c-0', phase: 'running' }]);
    connect('c-0');
    await advance(rx, 1000);
    scheduler.emit({ type: 'worker.removed', name: 'c-0' });
    expect(auto.view.workers().map((w) => [w.name, w.state])).to.deep.equal([['c-0', 'lost']]);
    await auto.shutdown('test');
  });
});
