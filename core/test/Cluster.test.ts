import { expect } from 'chai';
import { Cluster } from '../src/cluster/Cluster.js';
import { MemoryLogger } from '../src/logging/Logger.js';
import { FakeBackend } from '../src/testing/fakes.js';
import { newTestScheduler } from './helpers.js';

function setup() {
  const rx = newTestScheduler();
  const backend = new FakeBackend();
  const logger = new MemoryLogger();
  const cluster = new Cluster(
    backend,
    { name: 'c', schedulerAddress: () => 'tcp://127.0.0.1:1', nthreads: 2, memoryLimit: 1e9, workerStartTimeout: 60, lostWorkerTimeout: 15 },
    rx,
    logger,
  );
  const at = (seconds: number) => {
    rx.frame = seconds * 1000;
  };
  return { rx, backend, cluster, logger, at };
}

describe('Cluster', () => {
  it('names workers {cluster}-{i}: the lowest free number at or above a counter that only moves up (Dask §6.4)', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(4);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-1', 'c-2', 'c-3']);
    cluster.observe(cluster.plan);
    await cluster.scale(2);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-1']);
    expect(backend.stops).to.deep.equal([['c-2', 'c-3']]);
    // The counter stood at 3 after naming c-3 and never goes down: c-2 is not reused.
    await cluster.scale(4);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-1', 'c-3', 'c-4']);
    await cluster.scale(5);
    expect(cluster.plan.at(-1)).to.equal('c-5');
    expect(backend.starts[0]![0]).to.deep.equal({ name: 'c-0', scheduler: 'tcp://127.0.0.1:1', nthreads: 2, memoryLimit: 1e9 });
  });

  it('cancels requested-but-never-arrived workers first when shrinking, then the newest', async () => {
    const { cluster } = setup();
    await cluster.scale(4);
    cluster.observe(['c-0', 'c-2', 'c-3']);
    await cluster.scale(3);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-2', 'c-3']);
    await cluster.scale(2);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-2']);
  });

  it('scaleDown removes exactly the named workers and stops them', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(3);
    cluster.observe(cluster.plan);
    await cluster.scaleDown(['c-1']);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-2']);
    expect(cluster.requested).to.deep.equal(['c-0', 'c-2']);
    expect(backend.stops).to.deep.equal([['c-1']]);
  });

  it('a worker that exits leaves requested and is relaunched by reconcile, with backoff when it failed', async () => {
    const { cluster, backend, at, logger } = setup();
    await cluster.scale(1);
    backend.set([{ name: 'c-0', phase: 'exited', failed: true, exitCode: 3, reason: 'boom' }]);
    expect(cluster.requested).to.deep.equal([]);
    expect(cluster.plan).to.deep.equal(['c-0']);
    expect(logger.records.some((r) => r.fields.event === 'worker.failed' && r.fields.exitCode === 3)).to.equal(true);
    // Backing off for 1 s after the first failure: nothing started.
    await cluster.reconcile();
    expect(backend.starts).to.have.length(1);
    at(1);
    await cluster.reconcile();
    expect(backend.starts).to.have.length(2);
    // A second failure doubles the wait.
    backend.set([{ name: 'c-0', phase: 'exited', failed: true, exitCode: 3 }]);
    at(2.5);
    await cluster.reconcile();
    expect(backend.starts).to.have.length(2);
    at(3);
    await cluster.reconcile();
    expect(backend.starts).to.have.length(3);
  });

  it('arrival resets the failure backoff', async () => {
    const { cluster, backend, at } = setup();
    await cluster.scale(1);
    backend.set([{ name: 'c-0', phase: 'exited', failed: true, exitCode: 1 }]);
    at(1);
    await cluster.reconcile();
    cluster.observe(['c-0']);
    expect(cluster.backingOff).to.equal(false);
  });

  it('gives up on a worker that never connects within workerStartTimeout', async () => {
    const { cluster, backend, at } = setup();
    await cluster.scale(2);
    cluster.observe(['c-0']);
    at(59);
    cluster.observe(['c-0']);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-1']);
    at(60);
    cluster.observe(['c-0']);
    expect(cluster.plan).to.deep.equal(['c-0']);
    expect(cluster.requested).to.deep.equal(['c-0']);
    expect(backend.stops.flat()).to.include('c-1');
  });

  it('stops a worker lost from the scheduler for lostWorkerTimeout and relaunches it on reconcile', async () => {
    const { cluster, backend, at } = setup();
    await cluster.scale(1);
    cluster.observe(['c-0']);
    at(10);
    cluster.observe([]);
    at(24);
    cluster.observe([]);
    expect(cluster.requested).to.deep.equal(['c-0']);
    at(25);
    cluster.observe([]);
    expect(cluster.requested).to.deep.equal([]);
    expect(backend.stops.flat()).to.deep.equal(['c-0']);
    await cluster.reconcile();
    expect(cluster.plan).to.deep.equal(['c-0']);
    expect(backend.starts).to.have.length(2);
  });

  it('close stops every worker it started', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(3);
    await cluster.close();
    expect(backend.active).to.deep.equal([]);
    expect(cluster.plan).to.deep.equal([]);
  });
});
