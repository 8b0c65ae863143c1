import { expect } from 'chai';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { Gate, WAIT_FOR_FILE } from './helpers/gate.js';
import { killWorkers, spawnWorker } from './helpers/workers.js';
import { waitFor } from './helpers/waitFor.js';

describe('submit and gather with real workers', () => {
  let h: Harness;

  afterEach(async () => {
    await h?.close();
    await killWorkers();
  });

  it('round-trips sync and async tasks and gathers results in key order', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 2);
    const inc = await h.client.submit(builtinTask('inc'), [41]);
    const add = await h.client.submit(builtinTask('add'), [2, 3], { key: 'add-explicit' });
    const sum = await h.client.submit(builtinTask('sum'), [[1, 2, 3, 4]]);
    const sleep = await h.client.submit(builtinTask('sleep'), [5]);
    expect(add).to.equal('add-explicit');
    expect(inc).to.match(/^inc-[0-9a-f]{32}$/);
    expect(await h.client.gather([sum, inc, add, sleep])).to.deep.equal([10, 42, 5, 5]);
    // Results stay on the worker until released; nbytes is the size of each result's JSON.
    const nbytes = await waitFor('nbytes in the store', () => h.store.snapshot(0).workers[0]?.nbytes);
    expect(nbytes).to.equal('10'.length + '42'.length + '5'.length + '5'.length);
    await h.client.release([inc, add, sum, sleep]);
    expect(h.store.snapshot(0).workers[0]!.nbytes).to.equal(0);
    expect(h.scheduler.taskStatus(inc)).to.equal(undefined);
  });

  it('uses the given prefix, else keySplit of the key, and learns its duration on completion', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 1);
    const a = await h.client.submit(builtinTask('inc'), [1], { prefix: 'custom' });
    const b = await h.client.submit(builtinTask('inc'), [1], { key: 'load-data-0001' });
    await h.client.gather([a, b]);
    const prefixes = h.store.snapshot(0).prefixes;
    expect(prefixes).to.have.keys('custom', 'load-data');
    expect(prefixes.custom!.durationAverage).to.be.greaterThan(0);
    expect(prefixes['load-data']!.durationAverage).to.be.greaterThan(0);
  });

  it('runs N tasks across 2 workers with 2 threads each, all complete and both workers used', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 2);
    await spawnWorker(h.address, 'w2', 2);
    const gate = new Gate();
    try {
      const keys: string[] = [];
      for (let i = 0; i < 12; i++) keys.push(await h.client.submit(WAIT_FOR_FILE, gate.args(i), { prefix: 'gated' }));
      // Frozen: every slot of both workers is taken and the rest waits in the queue.
      const snap = h.store.snapshot(0);
      expect(snap.workers.map((w) => [w.name, w.processing.gated])).to.deep.equal([
        ['w1', 2],
        ['w2', 2],
      ]);
      expect(snap.prefixes.gated!.queued).to.equal(8);
      gate.open();
      expect(await h.client.gather(keys)).to.deep.equal(keys.map((_, i) => i));
      const assignedTo = new Set(h.events.filter((e) => e.type === 'task.transition' && e.to === 'processing').map((e) => (e as { worker: string }).worker));
      expect([...assignedTo].sort()).to.deep.equal(['w1', 'w2']);
      expect(h.store.counts()).to.deep.include({ queued: 0, processing: 0 });
    } finally {
      gate.dispose();
    }
  });

  it('keeps CPU-bound tasks off the heartbeat thread: executing tasks are reported while they burn', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 1);
    const key = await h.client.submit(builtinTask('burn'), [1500]);
    // task.executing only comes from heartbeats, which a blocked main thread could not send.
    await waitFor('a heartbeat reporting the burning task', () => (h.store.snapshot(0).prefixes.burn?.maxExecTime ?? -1) > 0);
    expect(h.scheduler.taskStatus(key)).to.equal('processing');
    const [spins] = await h.client.gather([key]);
    expect(spins).to.be.a('number').greaterThan(0);
  });

  it('resubmitting a key reuses it, and the result survives until every wanter released it', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 1);
    const { Client } = await import('../src/client/Client.js');
    const other = await Client.connect(h.address);
    try {
      await h.client.submit(builtinTask('inc'), [1], { key: 'shared-1' });
      await other.submit(builtinTask('inc'), [100], { key: 'shared-1' });
      expect(await other.gather(['shared-1'])).to.deep.equal([2]);
      await h.client.release(['shared-1']);
      expect(await other.gather(['shared-1'])).to.deep.equal([2]);
      await other.release(['shared-1']);
      expect(h.scheduler.taskStatus('shared-1')).to.equal(undefined);
    } finally {
      await other.close();
    }
  });

  it('rejects gather of a key that was never submitted, with a message naming it', async () => {
    h = await startHarness();
    const error = await h.client.gather(['nope-1']).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(error?.code).to.equal('INPUT_INVALID');
    expect(error?.message).to.contain('"nope-1" is not known');
  });
});
