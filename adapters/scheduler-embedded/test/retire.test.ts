import { expect } from 'chai';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { Gate, WAIT_FOR_FILE } from './helpers/gate.js';
import { type SpawnedWorker, killWorkers, spawnWorker } from './helpers/workers.js';
import { isAlive } from './helpers/waitFor.js';

describe('retire', () => {
  let h: Harness;

  afterEach(async () => {
    await h?.close();
    await killWorkers();
  });

  it('moves results held only by the worker to the least-loaded running worker, then closes it', async () => {
    h = await startHarness();
    const workers: Record<string, SpawnedWorker> = {
      w1: await spawnWorker(h.address, 'w1', 1),
      w2: await spawnWorker(h.address, 'w2', 1),
      w3: await spawnWorker(h.address, 'w3', 1),
    };
    const sizes = [300, 500, 700, 900, 1100, 1300];
    const keys: string[] = [];
    for (const n of sizes) keys.push(await h.client.submit(builtinTask('blob'), [n]));
    const values = await h.client.gather(keys);
    const byWorker = (name: string) => keys.filter((k) => h.scheduler.holdersOf(k)[0] === name);
    const bytesOf = (name: string) => h.store.snapshot(0).workers.find((w) => w.name === name)?.nbytes;
    // Retire the worker holding the most; the others' sizes decide the recipient.
    const victim = ['w1', 'w2', 'w3'].sort((a, b) => bytesOf(b)! - bytesOf(a)!)[0]!;
    const others = ['w1', 'w2', 'w3'].filter((n) => n !== victim);
    const recipient = others.sort((a, b) => bytesOf(a)! - bytesOf(b)!)[0]!;
    const unique = byWorker(victim);
    const uniqueBytes = unique.reduce((n, k) => n + sizes[keys.indexOf(k)]!, 0);
    const recipientBefore = bytesOf(recipient)!;
    expect(unique.length).to.be.greaterThan(0);

    const result = await h.scheduler.retire([victim]);

    expect(result.outcomes).to.deep.equal([{ name: victim, status: 'retired', movedBytes: uniqueBytes }]);
    // retire resolves once it has disconnected; the process exits by itself.
    expect(h.store.workerNames()).to.not.include(victim);
    await workers[victim]!.exited;
    expect(isAlive(workers[victim]!.pid)).to.equal(false);
    for (const k of unique) expect(h.scheduler.holdersOf(k)).to.deep.equal([recipient]);
    expect(bytesOf(recipient)).to.equal(recipientBefore + uniqueBytes);
    expect(await h.client.gather(keys)).to.deep.equal(values);
    const statuses = h.events.filter((e) => e.type === 'worker.updated' && e.name === victim && e.status).map((e) => (e as { status: string }).status);
    expect(statuses).to.deep.equal(['closing']);
  });

  it('refuses to retire a worker whose data has nowhere to go: it keeps running and serving', async () => {
    h = await startHarness();
    const w1 = await spawnWorker(h.address, 'w1', 1);
    const key = await h.client.submit(builtinTask('blob'), [64]);
    const [value] = await h.client.gather([key]);

    const result = await h.scheduler.retire(['w1']);

    expect(result.outcomes).to.deep.equal([{ name: 'w1', status: 'kept', reason: 'holds data that cannot be moved' }]);
    expect(h.store.snapshot(0).workers.map((w) => [w.name, w.status])).to.deep.equal([['w1', 'running']]);
    expect(isAlive(w1.pid)).to.equal(true);
    expect(await h.client.gather([key])).to.deep.equal([value]);
    const next = await h.client.submit(builtinTask('inc'), [1]);
    expect(await h.client.gather([next])).to.deep.equal([2]);
    const statuses = h.events.filter((e) => e.type === 'worker.updated' && e.status).map((e) => (e as { status: string }).status);
    expect(statuses).to.deep.equal(['closing', 'running']);
  });

  it('reports unknown names, retires a worker with no data, and re-queues what it was running', async () => {
    h = await startHarness();
    const w1 = await spawnWorker(h.address, 'w1', 1);
    const gate = new Gate();
    try {
      const key = await h.client.submit(WAIT_FOR_FILE, gate.args('done'), { key: 'held-1' });
      expect(h.scheduler.taskStatus(key)).to.equal('processing');
      await spawnWorker(h.address, 'w2', 1);

      const result = await h.scheduler.retire(['w1', 'ghost']);

      expect(result.outcomes).to.deep.equal([
        { name: 'w1', status: 'retired', movedBytes: 0 },
        { name: 'ghost', status: 'unknown', reason: 'no connected worker has this name' },
      ]);
      await w1.exited;
      // The task it was running went back to the queue and on to w2.
      const transitions = h.events.filter((e) => e.type === 'task.transition' && e.key === key).map((e) => [(e as { to: string }).to, (e as { worker?: string }).worker]);
      expect(transitions).to.deep.equal([
        ['queued', undefined],
        ['processing', 'w1'],
        ['queued', undefined],
        ['processing', 'w2'],
      ]);
      gate.open();
      expect(await h.client.gather([key])).to.deep.equal(['done']);
      expect(h.scheduler.holdersOf(key)).to.deep.equal(['w2']);
    } finally {
      gate.dispose();
    }
  });

  it('retiring several at once never picks one of them as a recipient, even the emptiest', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'w1', 1);
    await spawnWorker(h.address, 'w2', 1);
    await spawnWorker(h.address, 'w3', 1);
    const gate = new Gate();
    try {
      // w1 and w2 are busy with a gated task each, so the blob can only go to w3.
      const a = await h.client.submit(WAIT_FOR_FILE, gate.args('a'), { key: 'small-a' });
      const b = await h.client.submit(WAIT_FOR_FILE, gate.args('b'), { key: 'small-b' });
      const big = await h.client.submit(builtinTask('blob'), [5000]);
      gate.open();
      await h.client.gather([a, b, big]);
      expect([a, b, big].map((k) => h.scheduler.holdersOf(k))).to.deep.equal([['w1'], ['w2'], ['w3']]);

      // w1 holds 3 bytes, w3 5000: were w2 not excluded, w1's data would go to w2 (and be lost).
      const result = await h.scheduler.retire(['w1', 'w2']);

      expect(result.outcomes).to.deep.equal([
        { name: 'w1', status: 'retired', movedBytes: 3 },
        { name: 'w2', status: 'retired', movedBytes: 3 },
      ]);
      expect([a, b].map((k) => h.scheduler.holdersOf(k))).to.deep.equal([['w3'], ['w3']]);
      expect(await h.client.gather([a, b])).to.deep.equal(['a', 'b']);
      expect(h.store.snapshot(0).workers.map((w) => [w.name, w.nbytes])).to.deep.equal([['w3', 5006]]);
    } finally {
      gate.dispose();
    }
  });
});
