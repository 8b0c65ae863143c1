import { expect } from 'chai';
import { map, take } from 'rxjs';
import { advance } from '../src/testing/fakes.js';
import { newTestScheduler, setupLoop } from './helpers.js';

describe('Adaptive loop (virtual time)', () => {
  it('ticks every interval, the first one interval after start (marbles)', () => {
    const rx = newTestScheduler();
    rx.run(({ expectObservable }) => {
      const { adaptive } = setupLoop(rx);
      // The timer is infinite: stop it after the third tick so the virtual clock can finish.
      rx.schedule(() => adaptive.stop('done'), 3500);
      adaptive.start();
      expectObservable(adaptive.decisions$.pipe(map((r) => `${r.tick}:${r.recommendation.status}`), take(3))).toBe('1s a 999ms b 999ms (c|)', {
        a: '1:same',
        b: '2:same',
        c: '3:same',
      });
      expectObservable(adaptive.decisions$.pipe(map((r) => r.tick))).toBe('1s a 999ms b 999ms c 499ms |', { a: 1, b: 2, c: 3 });
    });
  });

  it('scales up on the first tick and records what it started', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, records } = setupLoop(rx);
    heuristic.value = 3;
    adaptive.start();
    await advance(rx, 1000);
    expect(records).to.have.length(1);
    expect(records[0]!.recommendation).to.deep.equal({ status: 'up', n: 3 });
    expect(records[0]!.outcome).to.deep.equal({ status: 'scaled-up', started: ['w-0', 'w-1', 'w-2'] });
    expect(backend.starts.flat().map((s) => s.name)).to.deep.equal(['w-0', 'w-1', 'w-2']);
    adaptive.stop('test');
  });

  it('needs waitCount consecutive ticks before a down, then retires and stops', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, scheduler, records, arrive, cluster } = setupLoop(rx, { waitCount: 3 });
    heuristic.value = 3;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    heuristic.value = 1;
    await advance(rx, 2000, 1000);
    expect(records.slice(1).map((r) => r.recommendation.status)).to.deep.equal(['same', 'same']);
    expect(records[2]!.closeCounts).to.deep.equal({ 'w-1': 2, 'w-2': 2 });
    expect(scheduler.retires).to.deep.equal([]);
    await advance(rx, 1000);
    const down = records[3]!;
    expect(down.recommendation).to.deep.equal({ status: 'down', workers: ['w-1', 'w-2'] });
    expect(scheduler.retires).to.deep.equal([['w-1', 'w-2']]);
    expect(backend.stops).to.deep.equal([['w-1', 'w-2']]);
    expect(down.outcome).to.deep.equal({ status: 'scaled-down', stopped: ['w-1', 'w-2'], retired: ['w-1', 'w-2'] });
    expect(cluster.plan).to.deep.equal(['w-0']);
    await advance(rx, 1000);
    expect(records[4]!.recommendation).to.deep.equal({ status: 'same' });
    adaptive.stop('test');
  });

  it('resets the counters on a same or up tick', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, scheduler, records, arrive } = setupLoop(rx, { waitCount: 3 });
    heuristic.value = 2;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    heuristic.value = 1;
    await advance(rx, 2000, 1000);
    expect(records[2]!.closeCounts).to.deep.equal({ 'w-1': 2 });
    heuristic.value = 2;
    await advance(rx, 1000);
    expect(records[3]!.closeCounts).to.deep.equal({});
    heuristic.value = 1;
    await advance(rx, 2000, 1000);
    expect(records.map((r) => r.recommendation.status)).to.deep.equal(['up', 'same', 'same', 'same', 'same', 'same']);
    expect(scheduler.retires).to.deep.equal([]);
    heuristic.value = 3;
    await advance(rx, 1000);
    expect(records[6]!.recommendation).to.deep.equal({ status: 'up', n: 3 });
    expect(records[6]!.closeCounts).to.deep.equal({});
    adaptive.stop('test');
  });

  it('never overlaps ticks: ticks while one is still running are skipped', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, records } = setupLoop(rx);
    let release!: () => void;
    backend.startImpl = () => new Promise<void>((r) => (release = r));
    heuristic.value = 2;
    adaptive.start();
    await advance(rx, 5000, 1000);
    expect(heuristic.calls).to.equal(1);
    expect(records).to.have.length(0);
    release();
    await advance(rx, 0);
    expect(records).to.have.length(1);
    await advance(rx, 1000);
    expect(heuristic.calls).to.equal(2);
    expect(records).to.have.length(2);
    adaptive.stop('test');
  });

  it('logs a failed tick and keeps going', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, records, logger } = setupLoop(rx);
    heuristic.throwOn.add(2);
    adaptive.start();
    await advance(rx, 3000, 1000);
    expect(records.map((r) => r.outcome?.status)).to.deep.equal(['none', 'failed', 'none']);
    expect(records[1]!.outcome!.error!.message).to.contain('boom on call 2');
    const warn = logger.records.find((r) => r.fields.event === 'tick.failed');
    expect(warn?.level).to.equal('warn');
    expect(adaptive.state).to.equal('running');
    adaptive.stop('test');
  });

  it('a failing action is recorded as failed and the loop continues', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, records } = setupLoop(rx);
    let fail = true;
    backend.startImpl = async () => {
      if (fail) throw new Error('quota exceeded');
    };
    heuristic.value = 1;
    adaptive.start();
    await advance(rx, 1000);
    expect(records[0]!.outcome).to.deep.include({ status: 'failed' });
    expect(records[0]!.outcome!.error!.message).to.equal('quota exceeded');
    fail = false;
    // The plan still holds w-0; the next tick's reconcile starts it again once the 1 s backoff is over.
    await advance(rx, 1000);
    expect(backend.starts.map((b) => b.map((s) => s.name))).to.deep.equal([['w-0'], ['w-0']]);
    expect(records[1]!.outcome).to.deep.equal({ status: 'none' });
    adaptive.stop('test');
  });

  it('keeps a worker whose data cannot be moved, says why, and retries on later ticks', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, scheduler, records, arrive, cluster } = setupLoop(rx, { waitCount: 1 });
    heuristic.value = 2;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    scheduler.keep.add('w-1');
    heuristic.value = 0;
    await advance(rx, 1000);
    const rec = records[1]!;
    expect(rec.recommendation).to.deep.equal({ status: 'down', workers: ['w-0', 'w-1'] });
    expect(rec.outcome).to.deep.equal({
      status: 'partial',
      stopped: ['w-0'],
      retired: ['w-0'],
      kept: [{ name: 'w-1', reason: 'kept: holds data that cannot be moved' }],
    });
    expect(backend.stops.flat()).to.deep.equal(['w-0']);
    expect(cluster.plan).to.deep.equal(['w-1']);
    scheduler.keep.delete('w-1');
    await advance(rx, 1000);
    expect(scheduler.retires).to.deep.equal([['w-0', 'w-1'], ['w-1']]);
    expect(records[2]!.outcome).to.deep.equal({ status: 'scaled-down', stopped: ['w-1'], retired: ['w-1'] });
    adaptive.stop('test');
  });

  it('cancels workers that never arrived without asking the scheduler to retire them', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, scheduler, records } = setupLoop(rx, { waitCount: 1 });
    heuristic.value = 2;
    adaptive.start();
    await advance(rx, 1000);
    heuristic.value = 0;
    await advance(rx, 1000);
    expect(records[1]!.recommendation).to.deep.equal({ status: 'down', workers: ['w-0', 'w-1'] });
    expect(scheduler.retires).to.deep.equal([]);
    expect(backend.stops).to.deep.equal([['w-0', 'w-1']]);
    adaptive.stop('test');
  });

  it('does not scale down while the scheduler connection is lost', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, scheduler, records, arrive } = setupLoop(rx, { waitCount: 1 });
    heuristic.value = 2;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    scheduler.emit({ type: 'connection', connected: false, reason: 'test' });
    heuristic.value = 0;
    await advance(rx, 2000, 1000);
    expect(records.slice(1).map((r) => r.recommendation.status)).to.deep.equal(['same', 'same']);
    expect(records[1]!.explanation.blind).to.be.a('string');
    expect(scheduler.retires).to.deep.equal([]);
    scheduler.emit({ type: 'connection', connected: true });
    await advance(rx, 1000);
    expect(records[3]!.recommendation.status).to.equal('down');
    adaptive.stop('test');
  });

  it('holds a scale-up too while blind, and every record says since when', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, scheduler, backend, records } = setupLoop(rx);
    adaptive.start();
    await advance(rx, 1000);
    scheduler.emit({ type: 'connection', connected: false, reason: 'test' });
    heuristic.value = 4;
    await advance(rx, 2000, 1000);
    expect(records.slice(1).map((r) => r.recommendation.status)).to.deep.equal(['same', 'same']);
    expect(records.slice(1).map((r) => r.blind)).to.deep.equal([{ since: 2 }, { since: 2 }]);
    expect(records[0]!.blind).to.equal(undefined);
    expect(String(records[1]!.explanation.blind)).to.contain('holding the scale-up');
    expect(backend.starts).to.deep.equal([]);
    scheduler.emit({ type: 'connection', connected: true });
    await advance(rx, 1000);
    expect(records[3]!.recommendation).to.deep.equal({ status: 'up', n: 4 });
    expect(records[3]!.blind).to.equal(undefined);
    adaptive.stop('test');
  });

  it('after reconnecting to a restarted, empty scheduler, rebuilds the plan from what exists instead of relaunching it', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, scheduler, backend, records, arrive, cluster } = setupLoop(rx);
    heuristic.value = 3;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    scheduler.emit({ type: 'connection', connected: false, reason: 'scheduler restarted' });
    // w-1 and w-2 died with the old scheduler; w-0 is still alive in the backend.
    backend.set([
      { name: 'w-1', phase: 'exited', failed: true, exitCode: 1 },
      { name: 'w-2', phase: 'exited', failed: true, exitCode: 1 },
    ]);
    heuristic.value = 0;
    await advance(rx, 1000);
    expect(backend.starts, 'nothing is relaunched while blind').to.have.length(1);
    scheduler.emit({ type: 'snapshot', snapshot: { time: 0, workers: [], prefixes: {} } });
    scheduler.emit({ type: 'connection', connected: true });
    await advance(rx, 1000);
    expect(cluster.plan).to.deep.equal(['w-0']);
    expect(backend.starts, 'the old plan is not started on the new scheduler').to.have.length(1);
    expect(records.at(-1)!.inputs!.plan).to.equal(1);
    adaptive.stop('test');
  });

  it('caps the target at what exists while the backend is capacity-limited, and says why', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, backend, records } = setupLoop(rx);
    const { EbbtideError } = await import('../src/errors.js');
    backend.startImpl = async () => {
      throw new EbbtideError('BACKEND_CAPACITY', 'exceeded quota');
    };
    heuristic.value = 3;
    adaptive.start();
    await advance(rx, 1000);
    expect(records[0]!.outcome!.status).to.equal('failed');
    await advance(rx, 1000);
    const held = records[1]!;
    expect(held.recommendation).to.deep.equal({ status: 'same' });
    expect(held.safeTarget).to.equal(0);
    expect((held.explanation.bounds as { cappedBy?: string }).cappedBy).to.equal('capacity');
    expect(held.explanation.capacity).to.include({ reason: 'exceeded quota', failures: 1 });
    expect(backend.starts).to.have.length(1);
    // After the 5 s hold, it asks again.
    backend.startImpl = undefined;
    await advance(rx, 4000, 1000);
    expect(records.at(-1)!.recommendation).to.deep.equal({ status: 'up', n: 3 });
    adaptive.stop('test');
  });

  it('stop() is idempotent and logs its reason once', async () => {
    const rx = newTestScheduler();
    const { adaptive, records, logger } = setupLoop(rx);
    adaptive.start();
    await advance(rx, 1000);
    adaptive.stop('shutdown');
    adaptive.stop('again');
    await advance(rx, 3000, 1000);
    expect(records).to.have.length(1);
    const stops = logger.records.filter((r) => r.fields.event === 'adaptive.stop');
    expect(stops).to.have.length(1);
    expect(stops[0]!.fields.reason).to.equal('shutdown');
    expect(adaptive.state).to.equal('stopped');
  });

  it('records input counts, time and tick number', async () => {
    const rx = newTestScheduler();
    const { adaptive, scheduler, records } = setupLoop(rx);
    scheduler.emit({ type: 'task.transition', key: 'x-1', prefix: 'x', to: 'queued' });
    adaptive.start();
    await advance(rx, 2000, 1000);
    expect(records[1]).to.deep.include({ tick: 2, time: 2 });
    expect(records[1]!.inputs).to.deep.equal({
      workers: 0,
      plan: 0,
      requested: 0,
      tasksQueued: 1,
      tasksUnrunnable: 0,
      tasksProcessing: 0,
      workersByStatus: { running: 0, paused: 0, closing: 0 },
      threads: 0,
      occupancy: 0,
      memory: { used: 0, limit: 0 },
    });
    adaptive.stop('test');
  });
});
