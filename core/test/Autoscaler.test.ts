import { expect } from 'chai';
import type { TestScheduler } from 'rxjs/testing';
import { Autoscaler } from '../src/runtime/Autoscaler.js';
import { Kernel } from '../src/plugins/Kernel.js';
import { definePlugin } from '../src/plugins/EbbtidePlugin.js';
import { MemoryLogger } from '../src/logging/Logger.js';
import type { DecisionRecord } from '../src/DecisionRecord.js';
import type { RetireResult } from '../src/contracts/SchedulerAdapter.js';
import { FakeBackend, FakeScheduler, advance } from '../src/testing/fakes.js';
import { ScriptedHeuristic, keepFirst, newTestScheduler } from './helpers.js';

const heuristic = new ScriptedHeuristic();
class Scripted {
  target = heuristic.target.bind(heuristic);
}
class KeepFirst {
  select = keepFirst.select;
}
class ByName {
  key(w: { name: string }) {
    return w.name;
  }
}
const testPlugin = definePlugin({
  name: 'test',
  register(r) {
    r.heuristic('scripted', Scripted);
    r.workersToClose('keep-first', KeepFirst);
    r.workerKey('by-name', ByName);
    r.scheduler('fake', FakeScheduler);
    r.backend('fake', FakeBackend);
  },
});

async function setup(rx: TestScheduler, flags: Record<string, string> = {}) {
  const logger = new MemoryLogger('debug');
  const kernel = await Kernel.create({
    builtins: [testPlugin],
    rxScheduler: rx,
    logger,
    sources: {
      env: {},
      flags: {
        heuristic: 'scripted',
        workersToClose: 'keep-first',
        workerKey: 'by-name',
        'scheduler.type': 'fake',
        'backend.type': 'fake',
        'cluster.name': 'c',
        'adaptive.waitCount': '1',
        ...flags,
      },
    },
  });
  const scheduler = new FakeScheduler();
  const backend = new FakeBackend();
  return { kernel, scheduler, backend, logger };
}

function connect(scheduler: FakeScheduler, name: string) {
  scheduler.emit({
    type: 'worker.added',
    worker: { name, address: `tcp://h/${name}`, host: 'h', nthreads: 1, memoryLimit: 0, nbytes: 0, status: 'running', labels: {} },
  });
}

describe('Autoscaler', () => {
  beforeEach(() => {
    heuristic.value = 0;
  });

  it('adopts the backend\'s and the scheduler\'s workers of the cluster before its first decision', async () => {
    const rx = newTestScheduler();
    const { kernel, scheduler, backend } = await setup(rx, { 'adaptive.maximum': '3' });
    backend.existing = [
      { name: 'c-0', phase: 'running' },
      { name: 'c-1', phase: 'running' },
    ];
    scheduler.start = async () => {
      connect(scheduler, 'c-0');
      connect(scheduler, 'c-1');
      connect(scheduler, 'c-2');
    };
    const auto = await Autoscaler.start(kernel, { scheduler, backend });
    const records: DecisionRecord[] = [];
    auto.decisions$.subscribe((r) => records.push(r));
    expect(auto.adoption.adopted).to.deep.equal(['c-0', 'c-1', 'c-2']);
    expect(auto.cluster.plan).to.deep.equal(['c-0', 'c-1', 'c-2']);
    heuristic.value = 10;
    await advance(rx, 3000, 1000);
    // Already at maximum (3): no start at all, so no duplicate name and never more than 3.
    expect(backend.starts).to.deep.equal([]);
    expect(records.every((r) => r.recommendation.status === 'same')).to.equal(true);
    await auto.shutdown('test', { workers: 'keep' });
  });

  it('refuses to start while another live ebbtide holds the cluster, and leaves its workers alone', async () => {
    const rx = newTestScheduler();
    const { kernel, scheduler, backend } = await setup(rx);
    backend.lockedBy = 'ebbtide pid 4242 on h';
    backend.existing = [{ name: 'c-0', phase: 'running' }];
    let error: unknown;
    await Autoscaler.start(kernel, { scheduler, backend }).catch((e: unknown) => (error = e));
    expect((error as { code?: string }).code).to.equal('CLUSTER_LOCKED');
    expect(backend.closedWith).to.deep.equal({ keep: true });
    expect(backend.stops).to.deep.equal([]);
  });

  it('takes the backend\'s lock (adopt) before the scheduler\'s mark (claim): a standby waits on the backend first', async () => {
    const rx = newTestScheduler();
    const { kernel, scheduler, backend } = await setup(rx);
    const order: string[] = [];
    Object.assign(scheduler, { claim: async (name: string) => void order.push(`claim ${name}`) });
    const adopt = backend.adopt.bind(backend);
    backend.adopt = async (o) => (order.push(`adopt ${o.cluster}`), adopt(o));
    const auto = await Autoscaler.start(kernel, { scheduler, backend });
    expect(order).to.deep.equal(['adopt c', 'claim c']);
    await auto.shutdown('test');
  });

  it('shutdown.workers keep leaves every worker running and says so in the last record', async () => {
    const rx = newTestScheduler();
    const { kernel, scheduler, backend } = await setup(rx, { 'shutdown.workers': 'keep' });
    const auto = await Autoscaler.start(kernel, { scheduler, backend });
    const records: DecisionRecord[] = [];
    auto.decisions$.subscribe((r) => records.push(r));
    heuristic.value = 2;
    await advance(rx, 1000);
    const summary = await auto.shutdown('SIGTERM');
    expect(summary.left).to.deep.equal(['c-0', 'c-1']);
    expect(backend.closedWith).to.deep.equal({ keep: true });
    expect(backend.stops).to.deep.equal([]);
    expect(scheduler.retires).to.deep.equal([]);
    expect(records.at(-1)!.outcome).to.include({ status: 'shutdown' });
    expect(records.at(-1)!.outcome!.left).to.deep.equal(['c-0', 'c-1']);
  });

  it('stops by itself, touching no worker, when the backend loses the cluster to another ebbtide', async () => {
    const rx = newTestScheduler();
    const { kernel, scheduler, backend, logger } = await setup(rx);
    const auto = await Autoscaler.start(kernel, { scheduler, backend });
    heuristic.value = 2;
    await advance(rx, 1000);
    const { EbbtideError } = await import('../src/errors.js');
    backend.fail(new EbbtideError('CLUSTER_LOCKED', 'lease ebbtide-c is held by replica-b'));
    const reason = await auto.stoppedItself;
    expect(reason).to.equal('lost the cluster to another ebbtide: lease ebbtide-c is held by replica-b');
    await auto.shutdown('test');
    expect(backend.stops).to.deep.equal([]);
    expect(backend.closedWith).to.deep.equal({ keep: true });
    expect(logger.records.some((r) => r.fields.event === 'autoscaler.stopped' && r.fields.code === 'CLUSTER_LOCKED')).to.equal(true);
    expect(auto.adaptive.state).to.equal('stopped');
  });

  describe('shutdown.workers stop', () => {
    async function running(rx: TestScheduler, flags: Record<string, string> = {}) {
      const s = await setup(rx, { 'shutdown.timeout': '5s', ...flags });
      const auto = await Autoscaler.start(s.kernel, { scheduler: s.scheduler, backend: s.backend });
      const records: DecisionRecord[] = [];
      auto.decisions$.subscribe((r) => records.push(r));
      heuristic.value = 2;
      await advance(rx, 1000);
      connect(s.scheduler, 'c-0');
      connect(s.scheduler, 'c-1');
      await advance(rx, 1000);
      return { ...s, auto, records };
    }

    it('retires every worker first and stops a retired one at once', async () => {
      const rx = newTestScheduler();
      const { auto, scheduler, backend, records } = await running(rx);
      const summary = await auto.shutdown('SIGTERM', { retire: true });
      expect(scheduler.retires).to.deep.equal([['c-0', 'c-1']]);
      expect(backend.active).to.deep.equal([]);
      expect(summary.lost.count).to.equal(0);
      expect(records.at(-1)!.outcome).to.deep.include({ status: 'shutdown', stopped: ['c-0', 'c-1'] });
    });

    it('waits for results that cannot move to be released, then stops the worker: nothing lost', async () => {
      const rx = newTestScheduler();
      const { auto, scheduler, backend, logger } = await running(rx);
      let released = false;
      scheduler.retireImpl = async (names): Promise<RetireResult> => ({
        outcomes: names.map((name) =>
          name === 'c-1' && !released
            ? { name, status: 'kept' as const, reason: 'holds data that cannot be moved', held: { count: 40, keys: ['r-1', 'r-2'] } }
            : { name, status: 'retired' as const },
        ),
      });
      const done = auto.shutdown('SIGTERM', { retire: true });
      await advance(rx, 0);
      // c-0 is retired and stopped at once; c-1 waits, still running.
      expect(backend.active).to.deep.equal(['c-1']);
      expect(logger.records.some((r) => r.fields.event === 'shutdown.waiting' && r.fields.results === 40)).to.equal(true);
      await advance(rx, 2000, 1000);
      expect(backend.active).to.deep.equal(['c-1']);
      released = true;
      await advance(rx, 1000);
      const summary = await done;
      expect(summary.lost).to.deep.equal({ count: 0, keys: [] });
      expect(backend.active).to.deep.equal([]);
      expect(logger.records.some((r) => r.fields.event === 'shutdown.results-lost')).to.equal(false);
    });

    it('a kept worker the scheduler could not measure is still reported lost, its count marked inexact', async () => {
      const rx = newTestScheduler();
      const { auto, scheduler, backend, logger } = await running(rx);
      let calls = 0;
      scheduler.retireImpl = async (names): Promise<RetireResult> => ({
        // The first answer measures what c-1 holds; later ones cannot (the data changed under them).
        outcomes: names.map((name) => (name === 'c-1' ? { name, status: 'kept' as const, ...(calls++ === 0 ? { held: { count: 3, keys: ['a', 'b', 'c'] } } : {}) } : { name, status: 'retired' as const })),
      });
      const done = auto.shutdown('SIGTERM', { retire: true });
      await advance(rx, 6000, 1000);
      const summary = await done;
      expect(summary.lost).to.deep.equal({ count: 3, keys: ['a', 'b', 'c'], workers: ['c-1'], exact: true });
      expect(backend.active).to.deep.equal([]);
      expect(logger.records.find((r) => r.fields.event === 'shutdown.results-lost')!.fields).to.deep.include({ results: 3 });
    });

    it('when the scheduler never says what a kept worker holds, the loss is reported as at least what is known', async () => {
      const rx = newTestScheduler();
      const { auto, scheduler } = await running(rx);
      scheduler.retireImpl = async (names): Promise<RetireResult> => ({ outcomes: names.map((name) => (name === 'c-1' ? { name, status: 'kept' as const } : { name, status: 'retired' as const })) });
      const done = auto.shutdown('SIGTERM', { retire: true });
      await advance(rx, 6000, 1000);
      expect((await done).lost).to.deep.equal({ count: 0, keys: [], workers: ['c-1'], exact: false });
    });

    it('after shutdown.timeout, stops it anyway and reports exactly what was lost', async () => {
      const rx = newTestScheduler();
      const { auto, scheduler, backend, logger, records } = await running(rx);
      const keys = Array.from({ length: 25 }, (_, i) => `r-${i}`);
      scheduler.retireImpl = async (names): Promise<RetireResult> => ({
        outcomes: names.map((name) =>
          name === 'c-1' ? { name, status: 'kept' as const, held: { count: 25, keys: keys.slice(0, 20) } } : { name, status: 'retired' as const },
        ),
      });
      const done = auto.shutdown('SIGTERM', { retire: true });
      await advance(rx, 4000, 1000);
      expect(backend.active, 'still waiting before the 5 s timeout').to.deep.equal(['c-1']);
      await advance(rx, 2000, 1000);
      const summary = await done;
      expect(summary.lost).to.deep.equal({ count: 25, keys: keys.slice(0, 20), workers: ['c-1'], exact: true });
      expect(backend.active).to.deep.equal([]);
      const warn = logger.records.find((r) => r.fields.event === 'shutdown.results-lost')!;
      expect(warn.level).to.equal('warn');
      expect(warn.fields).to.deep.include({ results: 25, workers: ['c-1'] });
      expect(records.at(-1)!.outcome!.lost).to.deep.equal({ count: 25, keys: keys.slice(0, 20) });
    });
  });
});
