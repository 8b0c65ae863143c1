import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger, type SchedulerEvent, type SchedulerSnapshot } from '@ebbtide/core';
import { asyncScheduler } from 'rxjs';
import { DaskSchedulerAdapter } from '../src/index.js';
import { adapterOptions } from './helpers/adapterOptions.js';
import { type WorkerProcess, startWorker } from './helpers/daskProcesses.js';
import { DASK_VERSIONS } from './helpers/daskVersions.js';
import { type SharedDask, sharedDask } from './helpers/sharedDask.js';
import { first, until } from './helpers/waitFor.js';

/**
 * Resource restrictions read from real schedulers: `client.submit(f, resources={'GPU': 1})` is GPU
 * demand in the adapter's snapshot, and `dask worker --resources GPU=1` offers it. The dump that
 * carries restrictions (`get_cluster_state`) is asked for only when one may matter.
 */
for (const v of DASK_VERSIONS) describe(`resource restrictions from a real Dask ${v.label} scheduler`, function () {
  this.timeout(60_000);
  let dask: SharedDask;
  let adapter: DaskSchedulerAdapter;
  let gate: string;
  let gpu: WorkerProcess | undefined;
  const logger = new MemoryLogger('debug');
  const snapshot$ = () => adapter.events$;
  const isSnapshot = (e: SchedulerEvent): e is { type: 'snapshot'; snapshot: SchedulerSnapshot } => e.type === 'snapshot';
  const polls = () => logger.records.filter((r) => r.fields['event'] === 'scheduler.poll');
  const dumps = () => polls().filter((r) => r.fields['restrictions'] === true).length;

  before(async () => {
    dask = await sharedDask(v);
    gate = join(dask.registry.tempDir('resources-gate'), 'open');
    adapter = new DaskSchedulerAdapter(adapterOptions(dask.scheduler.address), logger, asyncScheduler);
    await adapter.start();
  });
  after(async () => {
    writeFileSync(gate, '');
    await dask.client.request({ cmd: 'release', keys: ['plain-1', 'train-1'] });
    if (gpu) {
      // Leave the shared cluster as it was: the GPU worker retired and gone.
      await adapter.retire([gpu.name]);
      await gpu.exited;
    }
    await adapter.close();
  });

  it("a task submitted with resources={'GPU': 1} is GPU demand; a worker started with --resources GPU=1 offers GPU and runs it", async () => {
    // Plain work on plain workers: no restriction can matter, none is asked for.
    await dask.client.request({ cmd: 'submit_blocking', key: 'plain-1', gate });
    const plain = await first(snapshot$(), (e) => isSnapshot(e) && e.snapshot.workers.some((w) => w.processing['plain'] === 1), 'plain-1 processing');
    expect((plain as { snapshot: SchedulerSnapshot }).snapshot.resources).to.equal(undefined);
    expect(dumps()).to.equal(0);

    // No worker offers GPU: the task is unrunnable, and demand for one GPU.
    await dask.client.request({ cmd: 'submit_blocking', key: 'train-1', gate, resources: { GPU: 1 } });
    const waiting = await first(snapshot$(), (e) => isSnapshot(e) && e.snapshot.resources?.['GPU'] !== undefined, 'GPU demand in a snapshot');
    const s1 = (waiting as { snapshot: SchedulerSnapshot }).snapshot;
    expect(s1.resources).to.deep.equal({ GPU: { waiting: 1, processing: 0, units: { train: 1 } } });
    expect(s1.prefixes['train']).to.include({ queued: 0, unrunnable: 1 });
    // Read once; later polls that see no new task reuse it.
    const read = dumps();
    expect(read).to.equal(1);
    const seen = polls().length;
    await until(() => (polls().length >= seen + 3 ? true : undefined), 'three more polls');
    expect(dumps()).to.equal(read);

    // A GPU worker: it offers GPU, the task runs on it and counts as processing GPU work.
    gpu = await startWorker(dask.registry, dask.scheduler.address, 'g1', 1, ['--resources', 'GPU=1']);
    const running = await first(snapshot$(), (e) => isSnapshot(e) && e.snapshot.workers.some((w) => w.name === 'g1' && w.processing['train'] === 1), 'train-1 processing on g1');
    const s2 = (running as { snapshot: SchedulerSnapshot }).snapshot;
    expect(s2.workers.find((w) => w.name === 'g1')!.resources).to.deep.equal({ GPU: 1 });
    expect(s2.workers.filter((w) => w.name !== 'g1').every((w) => w.resources === undefined)).to.equal(true);
    expect(s2.resources).to.deep.equal({ GPU: { waiting: 0, processing: 1, units: { train: 1 } } });
    expect(dumps(), 'train-1 was already read: no new dump').to.equal(read);
  });
});
