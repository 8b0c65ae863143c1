import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { COUNT_RUN, Gate, WAIT_FOR_FILE } from './helpers/gate.js';
import { type SpawnedWorker, killWorkers, spawnWorker } from './helpers/workers.js';
import { waitFor } from './helpers/waitFor.js';

describe('a worker that dies', () => {
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

  it('SIGKILL mid-task: the task is re-queued and completes on another worker', async () => {
    h = await startHarness();
    const workers: Record<string, SpawnedWorker> = { w1: await spawnWorker(h.address, 'w1', 1), w2: await spawnWorker(h.address, 'w2', 1) };
    const key = await h.client.submit(WAIT_FOR_FILE, gate.args('survived'), { key: 'victim-1' });
    const first = h.store.snapshot(0).workers.find((w) => w.processing.victim === 1)!.name;
    const other = first === 'w1' ? 'w2' : 'w1';

    process.kill(workers[first]!.pid, 'SIGKILL');
    await waitFor(`${first} removed`, () => !h.store.workerNames().includes(first));
    await waitFor(`task re-assigned to ${other}`, () => h.store.snapshot(0).workers.find((w) => w.name === other)?.processing.victim === 1);

    gate.open();
    expect(await h.client.gather([key])).to.deep.equal(['survived']);
    expect(h.scheduler.holdersOf(key)).to.deep.equal([other]);
    expect(h.store.counts()).to.deep.include({ workers: 1, processing: 0, queued: 0 });
  });

  it('a worker silent past workerTimeout (SIGSTOP) is cut off and its task runs elsewhere', async () => {
    h = await startHarness({ workerTimeout: 0.5 });
    const workers: Record<string, SpawnedWorker> = { w1: await spawnWorker(h.address, 'w1', 1), w2: await spawnWorker(h.address, 'w2', 1) };
    const key = await h.client.submit(WAIT_FOR_FILE, gate.args('moved'), { key: 'frozen-1' });
    const first = h.store.snapshot(0).workers.find((w) => w.processing.frozen === 1)!.name;
    process.kill(workers[first]!.pid, 'SIGSTOP');
    try {
      await waitFor(`${first} timed out`, () => !h.store.workerNames().includes(first));
      const warning = h.logger.records.find((r) => r.fields.event === 'worker.timeout');
      expect(warning?.fields.worker).to.equal(first);
      gate.open();
      expect(await h.client.gather([key])).to.deep.equal(['moved']);
    } finally {
      process.kill(workers[first]!.pid, 'SIGCONT');
    }
    // Woken up, it finds its connection gone and exits by itself.
    expect(await workers[first]!.exited).to.equal(0);
  });

  it('a result lost with its only holder is recomputed when gathered', async () => {
    h = await startHarness();
    const workers: Record<string, SpawnedWorker> = { w1: await spawnWorker(h.address, 'w1', 1), w2: await spawnWorker(h.address, 'w2', 1) };
    const runs = gate.file('runs.log');
    const key = await h.client.submit(COUNT_RUN, [runs, { answer: 42 }], { key: 'precious-1' });
    expect(await h.client.gather([key])).to.deep.equal([{ answer: 42 }]);
    const holder = h.scheduler.holdersOf(key)[0]!;
    expect(readFileSync(runs, 'utf8')).to.equal('run\n');

    process.kill(workers[holder]!.pid, 'SIGKILL');
    await waitFor('the result to be marked lost', () => h.scheduler.taskStatus(key) === 'lost');
    // Nothing recomputes it until someone asks.
    expect(readFileSync(runs, 'utf8')).to.equal('run\n');

    expect(await h.client.gather([key])).to.deep.equal([{ answer: 42 }]);
    expect(readFileSync(runs, 'utf8')).to.equal('run\nrun\n');
    expect(h.scheduler.holdersOf(key)).to.deep.equal([holder === 'w1' ? 'w2' : 'w1']);
  });

  it('a gather waiting on a lost result is served once a new worker recomputes it', async () => {
    h = await startHarness();
    const w1 = await spawnWorker(h.address, 'w1', 1);
    const runs = gate.file('runs.log');
    const key = await h.client.submit(COUNT_RUN, [runs, 'again'], { key: 'lonely-1' });
    await h.client.gather([key]);
    process.kill(w1.pid, 'SIGKILL');
    await waitFor('w1 removed', () => h.store.workerNames().length === 0);

    const pending = h.client.gather([key]);
    await waitFor('the lost task to be queued again', () => h.store.snapshot(0).prefixes.lonely?.queued === 1);
    await spawnWorker(h.address, 'w2', 1);
    expect(await pending).to.deep.equal(['again']);
    expect(readFileSync(runs, 'utf8')).to.equal('run\nrun\n');
  });

  it('a recomputed result is queued under the prefix it was submitted with (the store had forgotten it)', async () => {
    h = await startHarness();
    const w1 = await spawnWorker(h.address, 'w1', 1);
    const key = await h.client.submit(builtinTask('inc'), [1], { key: 'lonely-2', prefix: 'solo' });
    await h.client.gather([key]);
    process.kill(w1.pid, 'SIGKILL');
    await waitFor('the result to be marked lost', () => h.scheduler.taskStatus(key) === 'lost');
    const pending = h.client.gather([key]);
    await waitFor('the lost task to be queued again', () => h.scheduler.taskStatus(key) === 'queued');
    // Before the model, the re-queue carried no prefix and the store filed it under "lonely".
    expect(h.store.snapshot(0).prefixes.solo?.queued).to.equal(1);
    expect(h.store.snapshot(0).prefixes.lonely?.queued ?? 0).to.equal(0);
    await spawnWorker(h.address, 'w2', 1);
    expect(await pending).to.deep.equal([2]);
  });
});
