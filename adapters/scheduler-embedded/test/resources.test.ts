import { expect } from 'chai';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { parseResources } from '../src/protocol/resources.js';
import { Gate, WAIT_FOR_FILE } from './helpers/gate.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { killWorkers, spawnWorker } from './helpers/workers.js';
import { waitFor } from './helpers/waitFor.js';

describe('resource restrictions', () => {
  let h: Harness;

  afterEach(async () => {
    await h?.close();
    await killWorkers();
  });

  it('parses NAME=QUANTITY pairs as dask worker --resources does, and says what is wrong', () => {
    expect(parseResources('GPU=1,MEM=2e9')).to.deep.equal({ GPU: 1, MEM: 2e9 });
    expect(parseResources(' GPU=0.5  FOO=3 ')).to.deep.equal({ GPU: 0.5, FOO: 3 });
    expect(parseResources('')).to.deep.equal({});
    expect(parseResources('GPU')).to.equal('expected NAME=QUANTITY, got "GPU"');
    expect(parseResources('GPU=lots')).to.equal('resource "GPU": expected a quantity > 0, got "lots"');
    expect(parseResources('GPU=0')).to.equal('resource "GPU": expected a quantity > 0, got "0"');
  });

  it('runs a restricted task only on a worker offering the resource; until one connects it is demand for it', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'cpu', 2);
    const gate = new Gate();
    try {
      const plain = await h.client.submit(builtinTask('inc'), [1], { prefix: 'plain' });
      expect(await h.client.gather([plain])).to.deep.equal([2]);
      const gpu = await h.client.submit(WAIT_FOR_FILE, gate.args(0), { prefix: 'train', resources: { GPU: 1 } });
      const gpu2 = await h.client.submit(WAIT_FOR_FILE, gate.args(1), { prefix: 'train', resources: { GPU: 1 } });
      // The CPU worker has free slots, yet the GPU tasks wait; they do not hold up plain work.
      const after = await h.client.submit(builtinTask('inc'), [2], { prefix: 'plain' });
      expect(await h.client.gather([after])).to.deep.equal([3]);
      let snap = h.store.snapshot(0);
      expect(snap.prefixes.train!.queued).to.equal(2);
      expect(snap.resources).to.deep.equal({ GPU: { waiting: 2, processing: 0, units: { train: 2 } } });
      expect(snap.workers[0]!.processing.train ?? 0).to.equal(0);

      // One GPU unit: one run at a time there, although the worker has two threads.
      await spawnWorker(h.address, 'gpu', 2, ['--resources', 'GPU=1']);
      snap = await waitFor('a GPU task processing on the GPU worker', () => {
        const s = h.store.snapshot(0);
        return s.workers.find((w) => w.name === 'gpu')?.processing.train === 1 && s;
      });
      expect(snap.workers.find((w) => w.name === 'gpu')!.resources).to.deep.equal({ GPU: 1 });
      expect(snap.resources).to.deep.equal({ GPU: { waiting: 1, processing: 1, units: { train: 2 } } });
      gate.open();
      expect(await h.client.gather([gpu, gpu2])).to.have.length(2);
      expect(h.store.snapshot(0).resources).to.equal(undefined);
    } finally {
      gate.dispose();
    }
  });

  it('takes the resources from EBBTIDE_WORKER_RESOURCES (a pool) and refuses malformed ones', async () => {
    h = await startHarness();
    await spawnWorker(h.address, 'pooled', 1, [], { EBBTIDE_WORKER_RESOURCES: 'GPU=2' });
    const w = await waitFor('the worker in the store', () => h.store.snapshot(0).workers[0]);
    expect(w.resources).to.deep.equal({ GPU: 2 });
    const key = await h.client.submit(builtinTask('inc'), [1], { resources: { GPU: 2 } });
    expect(await h.client.gather([key])).to.deep.equal([2]);
    let error: unknown;
    await h.client.submit(builtinTask('inc'), [1], { resources: { GPU: -1 } }).catch((e: unknown) => (error = e));
    expect(error).to.have.property('code', 'INPUT_INVALID');
    expect(String((error as Error).message)).to.contain('resource "GPU": expected a quantity > 0, got -1');
  });
});
