import { expect } from 'chai';
import { type SchedulerEvent, SchedulerStateStore } from '@ebbtide/core';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { Gate, WAIT_FOR_FILE } from './helpers/gate.js';
import { killWorkers, spawnWorker } from './helpers/workers.js';
import { waitFor } from './helpers/waitFor.js';

describe('events drive the core SchedulerStateStore', () => {
  let h: Harness;
  let gate: Gate;

  beforeEach(() => {
    gate = new Gate();
  });

  afterEach(async () => {
    gate.open();
    await h?.close();
    await killWorkers();
    gate.dispose();
  });

  it('shows queued, processing per prefix per worker, nbytes and memory limit at a frozen moment', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 2, ['--memory-limit', '1GB', '--label', 'pool=a']);
    await spawnWorker(h.address, 'w2', 2, ['--memory-limit', '2000000']);

    // Results of known size: 1000 and 2500 bytes of JSON.
    const blobs = [await h.client.submit(builtinTask('blob'), [1000]), await h.client.submit(builtinTask('blob'), [2500])];
    await h.client.gather(blobs);
    const expectedBytes: Record<string, number> = { w1: 0, w2: 0 };
    blobs.forEach((k, i) => (expectedBytes[h.scheduler.holdersOf(k)[0]!]! += [1000, 2500][i]!));

    // a1 b1 a2 b2 fill the four slots (most free slots first, ties to w1); a3 b3 wait.
    for (const name of ['a1', 'b1', 'a2', 'b2', 'a3', 'b3']) {
      await h.client.submit(WAIT_FOR_FILE, gate.args(name), { key: `${name}-0`, prefix: `gated-${name[0]}` });
    }

    const snap = h.store.snapshot(0);
    expect(snap.workers.map((w) => ({ name: w.name, processing: w.processing, nbytes: w.nbytes, memoryLimit: w.memoryLimit, status: w.status }))).to.deep.equal([
      { name: 'w1', processing: { 'gated-a': 2 }, nbytes: expectedBytes.w1, memoryLimit: 1e9, status: 'running' },
      { name: 'w2', processing: { 'gated-b': 2 }, nbytes: expectedBytes.w2, memoryLimit: 2_000_000, status: 'running' },
    ]);
    expect(snap.workers.reduce((n, w) => n + w.nbytes, 0)).to.equal(3500);
    expect(snap.workers[0]!.labels).to.deep.equal({ pool: 'a' });
    expect(snap.prefixes['gated-a']).to.deep.include({ queued: 1, durationAverage: -1 });
    expect(snap.prefixes['gated-b']).to.deep.include({ queued: 1, durationAverage: -1 });
    expect(h.store.counts()).to.deep.equal({ workers: 2, queued: 2, unrunnable: 0, processing: 4 });
    expect(snap.prefixes.blob!.durationAverage).to.be.greaterThan(0);

    // A subscriber arriving now is first given the current state, and agrees with the first one.
    const late = new SchedulerStateStore();
    const sub = h.scheduler.events$.subscribe((e: SchedulerEvent) => late.apply(e));
    expect(late.counts()).to.deep.equal(h.store.counts());
    expect(late.snapshot(0).workers.map((w) => w.processing)).to.deep.equal(snap.workers.map((w) => w.processing));

    // Heartbeats report how long the gated tasks have been running.
    await waitFor('task.executing from heartbeats', () => (h.store.snapshot(0).prefixes['gated-a']!.maxExecTime ?? -1) > 0);

    gate.open();
    await h.client.gather(['a1-0', 'b1-0', 'a2-0', 'b2-0', 'a3-0', 'b3-0']);
    const after = h.store.snapshot(0);
    expect(h.store.counts()).to.deep.equal({ workers: 2, queued: 0, unrunnable: 0, processing: 0 });
    expect(after.prefixes['gated-a']!.durationAverage).to.be.greaterThan(0);
    expect(late.counts()).to.deep.equal(h.store.counts());
    // Each gated result is a 4-byte JSON string ("a1").
    expect(after.workers.reduce((n, w) => n + w.nbytes, 0)).to.equal(3500 + 6 * 4);
    sub.unsubscribe();
  });

  it('snapshot() of the scheduler is what its events give the core', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 1);
    await h.client.submit(WAIT_FOR_FILE, gate.args(1), { key: 'x-1' });
    await h.client.submit(WAIT_FOR_FILE, gate.args(2), { key: 'x-2' });
    const mine = h.store.snapshot(0);
    const theirs = h.scheduler.snapshot();
    expect(theirs.workers).to.deep.equal(mine.workers);
    expect(theirs.prefixes.x).to.deep.include({ queued: 1 });
    expect(theirs.workers[0]!.processing).to.deep.equal({ x: 1 });
  });
});
