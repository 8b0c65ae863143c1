import { expect } from 'chai';
import { advance } from '../src/testing/fakes.js';
import { newTestScheduler, setupLoop } from './helpers.js';

describe('Adaptive loop: manual scaling and what the record says (virtual time)', () => {
  it('scale(n) holds n workers whatever the heuristic says, at once, and records mode manual', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, records, logger } = setupLoop(rx);
    heuristic.value = 0;
    adaptive.start();
    await advance(rx, 1000);
    expect(records[0]).to.deep.include({ mode: 'adaptive', target: 0 });
    // Half-way to the next timer tick: the mode change runs a tick of its own.
    await advance(rx, 500);
    adaptive.scale(2);
    await advance(rx, 0);
    expect(records).to.have.length(2);
    const r = records[1]!;
    expect(r.time).to.equal(1.5);
    expect(r).to.deep.include({ mode: 'manual', target: 2, safeTarget: 2, waitCount: 1 });
    expect(r.recommendation).to.deep.equal({ status: 'up', n: 2 });
    expect(r.explanation.manual).to.deep.equal({ n: 2, heuristicTarget: 0 });
    expect(r.explanation.bounds).to.deep.equal({ minimum: 2, maximum: 2 });
    expect(backend.starts.flat().map((s) => s.name)).to.deep.equal(['w-0', 'w-1']);
    expect(adaptive.scaling).to.deep.equal({ mode: 'manual', minimum: 0, maximum: Infinity, n: 2 });
    expect(logger.records.some((l) => l.fields.event === 'scaling.manual' && l.fields.n === 2)).to.equal(true);
    adaptive.stop('test');
  });

  it('shrinking in manual mode retires through the scheduler first, with no hysteresis, and says why each worker went', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, scheduler, backend, records, arrive } = setupLoop(rx, { waitCount: 3 });
    heuristic.value = 3;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    scheduler.emit({ type: 'worker.updated', name: 'w-2', nbytes: 4096 });
    // The heuristic still wants 3; manual wants 1: the two newest go at once (keep-first strategy).
    adaptive.scale(1);
    await advance(rx, 0);
    const down = records.at(-1)!;
    expect(down.recommendation).to.deep.equal({ status: 'down', workers: ['w-1', 'w-2'] });
    expect(scheduler.retires).to.deep.equal([['w-1', 'w-2']]);
    expect(backend.retiredStops).to.deep.equal(['w-1', 'w-2']);
    expect(down.outcome).to.deep.equal({ status: 'scaled-down', stopped: ['w-1', 'w-2'], retired: ['w-1', 'w-2'] });
    expect(down.proposed).to.deep.equal([
      { name: 'w-1', count: 1, firm: true, connected: true, idle: true, tasks: 0, nbytes: 0, group: 'w-1' },
      { name: 'w-2', count: 1, firm: true, connected: true, idle: true, tasks: 0, nbytes: 4096, group: 'w-2' },
    ]);
    adaptive.stop('test');
  });

  it('adapt() goes back to the heuristic within new bounds, with fresh hysteresis counters', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, records, arrive, cluster } = setupLoop(rx, { waitCount: 2 });
    heuristic.value = 0;
    adaptive.start();
    adaptive.scale(3);
    await advance(rx, 0);
    arrive();
    await advance(rx, 1000);
    expect(records.at(-1)!.recommendation).to.deep.equal({ status: 'same' });
    expect(cluster.plan).to.have.length(3);
    adaptive.adapt({ minimum: 1, maximum: 5 });
    await advance(rx, 0);
    const first = records.at(-1)!;
    expect(first).to.deep.include({ mode: 'adaptive', target: 0, safeTarget: 1, waitCount: 2 });
    expect(first.explanation.bounds).to.deep.equal({ minimum: 1, maximum: 5, cappedBy: 'minimum' });
    // waitCount 2 again: proposed once, not yet closed.
    expect(first.recommendation).to.deep.equal({ status: 'same' });
    expect(first.proposed!.map((p) => [p.name, p.count, p.firm])).to.deep.equal([
      ['w-1', 1, false],
      ['w-2', 1, false],
    ]);
    await advance(rx, 1000);
    expect(records.at(-1)!.recommendation).to.deep.equal({ status: 'down', workers: ['w-1', 'w-2'] });
    expect(records.at(-1)!.proposed!.map((p) => [p.name, p.count, p.firm])).to.deep.equal([
      ['w-1', 2, true],
      ['w-2', 2, true],
    ]);
    expect(adaptive.scaling).to.deep.equal({ mode: 'adaptive', minimum: 1, maximum: 5 });
    // A bound left out keeps its value.
    adaptive.adapt({ maximum: Infinity });
    expect(adaptive.scaling).to.deep.equal({ mode: 'adaptive', minimum: 1, maximum: Infinity });
    adaptive.stop('test');
  });

  it('refuses a count or bounds that are not whole numbers, or a minimum above the maximum', () => {
    const rx = newTestScheduler();
    const { adaptive } = setupLoop(rx);
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
      expect(() => adaptive.scale(bad), String(bad)).to.throw(/^n: expected a whole number >= 0/).with.property('code', 'INPUT_INVALID');
    }
    expect(() => adaptive.adapt({ minimum: 3, maximum: 2 })).to.throw('minimum (3) must not exceed maximum (2)').with.property('code', 'INPUT_INVALID');
    expect(() => adaptive.adapt({ maximum: -2 })).to.throw(/maximum: expected a whole number >= 0 or "inf"/);
    expect(adaptive.scaling.mode).to.equal('adaptive');
  });

  it('a worker that never connected is proposed first and marked not connected', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, records } = setupLoop(rx, { waitCount: 2 });
    heuristic.value = 1;
    adaptive.start();
    await advance(rx, 1000);
    heuristic.value = 0;
    await advance(rx, 1000);
    expect(records.at(-1)!.proposed).to.deep.equal([{ name: 'w-0', count: 1, firm: false, connected: false }]);
    await advance(rx, 1000);
    expect(records.at(-1)!.outcome).to.deep.equal({ status: 'scaled-down', stopped: ['w-0'], cancelled: ['w-0'] });
    adaptive.stop('test');
  });

  it('summarises the scheduler state: workers by status, threads, occupancy, memory; and the tick duration', async () => {
    const rx = newTestScheduler();
    const { adaptive, scheduler, records } = setupLoop(rx);
    const worker = (name: string, status: 'running' | 'paused', nbytes: number) =>
      scheduler.emit({ type: 'worker.added', worker: { name, address: `tcp://h/${name}`, host: 'h', nthreads: 2, memoryLimit: 1000, nbytes, status, labels: {} } });
    worker('x-0', 'running', 100);
    worker('x-1', 'paused', 300);
    scheduler.emit({ type: 'task.transition', key: 'a-1', prefix: 'a', to: 'processing', worker: 'x-0' });
    scheduler.emit({ type: 'task.transition', key: 'a-2', prefix: 'a', to: 'processing', worker: 'x-0' });
    scheduler.emit({ type: 'task.transition', key: 'a-3', prefix: 'a', to: 'processing', worker: 'x-1' });
    adaptive.start();
    await advance(rx, 1000);
    expect(records[0]!.inputs).to.deep.include({ workers: 2, tasksProcessing: 3, threads: 4, occupancy: 0.75 });
    expect(records[0]!.inputs!.workersByStatus).to.deep.equal({ running: 1, paused: 1, closing: 0 });
    expect(records[0]!.inputs!.memory).to.deep.equal({ used: 400, limit: 2000 });
    expect(records[0]!.duration).to.equal(0);
    adaptive.stop('test');
  });
});
