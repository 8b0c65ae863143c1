import { expect } from 'chai';
import type { BackendWorkerStatus, WorkerSpec } from '@ebbtide/core';
import { SimulatedBackend } from '../src/sim/SimulatedBackend.js';
import { SimulatedScheduler } from '../src/sim/SimulatedScheduler.js';
import { parseStartupDelay } from '../src/sim/StartupDelay.js';
import { VirtualClock } from '../src/sim/VirtualClock.js';
import { runClock, traceOf } from './helpers.js';

function spec(name: string): WorkerSpec {
  return { name, scheduler: 'sim://scheduler', nthreads: 2, memoryLimit: 1e9 };
}

async function setup(startupDelay: string, seed = 1, capacity?: number) {
  const clock = new VirtualClock();
  const scheduler = new SimulatedScheduler(traceOf([]), { bandwidth: 1e8, heartbeatInterval: 0 }, clock);
  await scheduler.start();
  const backend = new SimulatedBackend(scheduler, { startupDelay: parseStartupDelay(startupDelay), seed, ...(capacity !== undefined ? { capacity } : {}) }, clock);
  const statuses: Array<[number, string, string, boolean | undefined]> = [];
  backend.status$.subscribe((list) => {
    for (const s of list) statuses.push([clock.now() / 1000, s.name, s.phase, s.failed]);
  });
  const added: Array<[number, string]> = [];
  scheduler.events$.subscribe((e) => {
    if (e.type === 'worker.added') added.push([clock.now() / 1000, e.worker.name]);
  });
  return { clock, scheduler, backend, statuses, added, at: (s: number) => runClock(clock, s * 1000) };
}

describe('SimulatedBackend', () => {
  it('starts workers pending; each connects to the scheduler after the startup delay and runs', async () => {
    const s = await setup('3s');
    await s.at(1);
    await s.backend.start([spec('w-0'), spec('w-1')]);
    expect(s.backend.activeCount).to.equal(2);
    await s.at(3.9);
    expect(s.scheduler.workerNames()).to.deep.equal([]);
    await s.at(4);
    expect(s.added).to.deep.equal([
      [4, 'w-0'],
      [4, 'w-1'],
    ]);
    expect(s.statuses).to.deep.equal([
      [1, 'w-0', 'pending', undefined],
      [1, 'w-1', 'pending', undefined],
      [4, 'w-0', 'running', undefined],
      [4, 'w-1', 'running', undefined],
    ]);
    expect(s.backend.workersStarted).to.equal(2);
  });

  it('stop: a running worker leaves the scheduler and exits; a pending one never connects', async () => {
    const s = await setup('2s');
    await s.backend.start([spec('w-0')]);
    await s.at(5);
    await s.backend.start([spec('w-1')]);
    await s.at(6);
    await s.backend.stop(['w-0', 'w-1', 'never-started']);
    expect(s.scheduler.workerNames()).to.deep.equal([]);
    await s.at(20);
    expect(s.added.map(([, n]) => n)).to.deep.equal(['w-0']);
    expect(s.statuses.filter(([t]) => t === 6)).to.deep.equal([
      [6, 'w-0', 'stopping', undefined],
      [6, 'w-1', 'stopping', undefined],
      [6, 'w-0', 'exited', false],
      [6, 'w-1', 'exited', false],
    ]);
    expect(s.backend.activeCount).to.equal(0);
    // Billed from the start request to the exit: 6 s and 1 s.
    expect(s.backend.workerSeconds()).to.equal(7);
  });

  it('kill: the worker exits as failed', async () => {
    const s = await setup('1s');
    await s.backend.start([spec('w-0')]);
    await s.at(2);
    s.backend.kill(['w-0'], 'node lost');
    const last: BackendWorkerStatus[] = [];
    s.backend.status$.subscribe((list) => last.push(...list));
    expect(last).to.deep.equal([{ name: 'w-0', phase: 'exited', failed: true, exitCode: 1, reason: 'node lost' }]);
    expect(s.scheduler.workerNames()).to.deep.equal([]);
  });

  it('draws startup delays from its seed: the same seed connects at the same times', async () => {
    const times = async (seed: number) => {
      const s = await setup('uniform:2s:10s', seed);
      await s.backend.start(Array.from({ length: 8 }, (_, i) => spec(`w-${i}`)));
      await s.at(20);
      return s.added.map(([t]) => t);
    };
    const a = await times(7);
    expect(a).to.have.length(8);
    for (const t of a) expect(t).to.be.within(2, 10);
    expect(await times(7)).to.deep.equal(a);
    expect(await times(8)).not.to.deep.equal(a);
  });

  it('with a capacity, refuses starts beyond it as a quota does (failed exits with capacity), and takes them again once there is room', async () => {
    const s = await setup('2s', 1, 2);
    await s.backend.start([spec('w-0'), spec('w-1'), spec('w-2')]);
    expect(s.statuses).to.deep.equal([
      [0, 'w-0', 'pending', undefined],
      [0, 'w-1', 'pending', undefined],
      [0, 'w-2', 'exited', true],
    ]);
    expect(s.backend.refused).to.equal(1);
    expect(s.backend.workersStarted).to.equal(2);
    // Pending workers hold their place: a start before they connect is refused too.
    await s.at(1);
    await s.backend.start([spec('w-3')]);
    expect(s.backend.refused).to.equal(2);
    await s.at(3);
    expect(s.backend.peakRunning).to.equal(2);
    await s.backend.stop(['w-0']);
    await s.backend.start([spec('w-4')]);
    await s.at(6);
    expect(s.scheduler.workerNames()).to.deep.equal(['w-1', 'w-4']);
    expect(s.backend.refused).to.equal(2);
    // A refused worker cost nothing: w-0 0..3, w-1 0..6, w-4 3..6.
    expect(s.backend.workerSeconds()).to.equal(3 + 6 + 3);
  });

  it('close stops every worker it started', async () => {
    const s = await setup('1s');
    await s.backend.start([spec('w-0'), spec('w-1')]);
    await s.at(3);
    await s.backend.close();
    expect(s.backend.activeCount).to.equal(0);
    expect(s.scheduler.workerCount).to.equal(0);
  });
});
