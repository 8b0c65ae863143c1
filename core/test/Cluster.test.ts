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
    cluster.observe(['c-0', 'c-1']);
    // The counter stood at 3 after naming c-3 and never goes down: c-2 is not reused.
    await cluster.scale(4);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-1', 'c-3', 'c-4']);
    await cluster.scale(5);
    expect(cluster.plan.at(-1)).to.equal('c-5');
    expect(backend.starts[0]![0]).to.deep.equal({ name: 'c-0', scheduler: 'tcp://127.0.0.1:1', nthreads: 2, memoryLimit: 1e9 });
  });

  it('never names a new worker after one the scheduler still shows connected', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(2);
    cluster.observe(['c-0', 'c-1']);
    await cluster.scaleDown(['c-1']);
    // c-1's process is gone but the scheduler has not noticed yet: Dask would refuse the name.
    await cluster.scale(2);
    expect(cluster.plan).to.deep.equal(['c-0', 'c-2']);
    cluster.observe(['c-0', 'c-2']);
    expect(backend.starts.flat().map((s) => s.name)).to.deep.equal(['c-0', 'c-1', 'c-2']);
  });

  it('gives every worker the environment the scheduler asks for', async () => {
    const rx = newTestScheduler();
    const backend = new FakeBackend();
    const cluster = new Cluster(
      backend,
      { name: 'c', schedulerAddress: () => 'tcp://h:1', workerEnv: () => ({ EBBTIDE_TOKEN: 't0k' }), nthreads: 1, memoryLimit: 0, workerStartTimeout: 60, lostWorkerTimeout: 15 },
      rx,
    );
    await cluster.scale(1);
    expect(backend.starts[0]![0]!.env).to.deep.equal({ EBBTIDE_TOKEN: 't0k' });
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

  it('arrival of a worker ends the failure backoff at once', async () => {
    const { cluster, backend, at } = setup();
    await cluster.scale(2);
    backend.set([{ name: 'c-1', phase: 'exited', failed: true, exitCode: 1 }]);
    at(0.5);
    // Within the 1 s backoff that c-1's failure started: a start would be deferred.
    expect(cluster.backingOff).to.equal(true);
    await cluster.reconcile();
    expect(backend.starts).to.have.length(1);
    // c-0 arrives: the backend evidently works, so c-1 is relaunched without waiting.
    cluster.observe(['c-0']);
    expect(cluster.backingOff).to.equal(false);
    await cluster.reconcile();
    expect(backend.starts.at(-1)!.map((s) => s.name)).to.deep.equal(['c-1']);
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

  describe('adoption', () => {
    it('takes the backend\'s and the scheduler\'s existing workers into plan and requested; new names never collide', async () => {
      const { cluster, backend } = setup();
      backend.existing = [
        { name: 'c-3', phase: 'running' },
        { name: 'c-0', phase: 'running' },
      ];
      const r = await cluster.adopt(['c-0', 'c-7', 'other-1', 'c-gpu-0']);
      expect(backend.adopts).to.deep.equal([{ cluster: "c", scheduler: "tcp://127.0.0.1:1" }]);
      expect(r.adopted).to.deep.equal(['c-0', 'c-3', 'c-7']);
      expect(r.fromBackend).to.deep.equal(['c-3', 'c-0']);
      expect(r.fromScheduler).to.deep.equal(['c-0', 'c-7']);
      expect(cluster.plan).to.deep.equal(['c-0', 'c-3', 'c-7']);
      expect(cluster.requested).to.deep.equal(['c-0', 'c-3', 'c-7']);
      cluster.observe(['c-0', 'c-7', 'other-1', 'c-gpu-0']);
      await cluster.scale(5);
      // New names continue above the highest adopted one.
      expect(backend.starts.flat().map((s) => s.name)).to.deep.equal(['c-8', 'c-9']);
      expect(cluster.plan).to.have.length(5);
    });

    it('does not start anything for adopted workers, and stops them on scale-down', async () => {
      const { cluster, backend } = setup();
      backend.existing = [{ name: 'c-0', phase: 'running' }];
      await cluster.adopt(['c-0']);
      cluster.observe(['c-0']);
      await cluster.reconcile();
      expect(backend.starts).to.deep.equal([]);
      await cluster.scaleDown(['c-0']);
      expect(backend.stops).to.deep.equal([['c-0']]);
    });

    it('passes CLUSTER_LOCKED from the backend through', async () => {
      const { cluster, backend } = setup();
      backend.lockedBy = 'ebbtide pid 4242';
      let error: unknown;
      await cluster.adopt([]).catch((e: unknown) => (error = e));
      expect((error as { code?: string }).code).to.equal('CLUSTER_LOCKED');
    });

    it('adopts a worker of the cluster that connects without being requested, counting it in the plan', async () => {
      const { cluster, backend, logger } = setup();
      await cluster.scale(1);
      cluster.observe(['c-0', 'c-9']);
      expect(cluster.plan).to.deep.equal(['c-0', 'c-9']);
      expect(cluster.requested).to.deep.equal(['c-0', 'c-9']);
      expect(logger.records.some((r) => r.fields.event === 'worker.adopted' && r.fields.worker === 'c-9')).to.equal(true);
      await cluster.reconcile();
      expect(backend.starts.flat().map((s) => s.name)).to.deep.equal(['c-0']);
    });
  });

  it('rebuild drops planned workers that neither the backend nor the scheduler has', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(3);
    cluster.observe(['c-0', 'c-1', 'c-2']);
    // The scheduler restarted empty; c-1 and c-2 died with it, c-0 is still alive in the backend.
    backend.set([
      { name: 'c-1', phase: 'exited', failed: true, exitCode: 1 },
      { name: 'c-2', phase: 'exited', failed: true, exitCode: 1 },
    ]);
    cluster.observe([]);
    expect(cluster.rebuild()).to.deep.equal(['c-1', 'c-2']);
    expect(cluster.plan).to.deep.equal(['c-0']);
    await cluster.reconcile();
    expect(backend.starts).to.have.length(1);
  });

  describe('capacity', () => {
    it('a start refused with BACKEND_CAPACITY drops the names from the plan and holds starts with a growing backoff', async () => {
      const { cluster, backend, at, logger } = setup();
      const { EbbtideError } = await import('../src/errors.js');
      backend.startImpl = async () => {
        throw new EbbtideError('BACKEND_CAPACITY', 'exceeded quota: pods=2');
      };
      await cluster.scale(2).catch(() => undefined);
      expect(cluster.plan).to.deep.equal([]);
      expect(cluster.capacityLimit).to.include({ reason: 'exceeded quota: pods=2', failures: 1, until: 5 });
      expect(logger.records.some((r) => r.fields.event === 'backend.capacity-limited')).to.equal(true);
      at(4.9);
      await cluster.scale(2).catch(() => undefined);
      expect(backend.starts, 'held while capacity-limited').to.have.length(1);
      at(5);
      expect(cluster.capacityLimit).to.equal(undefined);
      await cluster.scale(2).catch(() => undefined);
      expect(backend.starts).to.have.length(2);
      expect(cluster.capacityLimit).to.include({ failures: 2, until: 15 });
    });

    it('a worker that failed for capacity (pending past its deadline) marks the cluster capacity-limited', async () => {
      const { cluster, backend } = setup();
      await cluster.scale(2);
      backend.set([{ name: 'c-1', phase: 'exited', failed: true, capacity: true, reason: 'Unschedulable: insufficient cpu' }]);
      expect(cluster.plan).to.deep.equal(['c-0']);
      expect(cluster.capacityLimit?.reason).to.equal('Unschedulable: insufficient cpu');
    });
  });

  it('close({ keep }) leaves every worker running', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(2);
    await cluster.close({ keep: true });
    expect(backend.stops).to.deep.equal([]);
    expect(backend.active).to.deep.equal(['c-0', 'c-1']);
  });

  it('close stops every worker it started', async () => {
    const { cluster, backend } = setup();
    await cluster.scale(3);
    await cluster.close();
    expect(backend.active).to.deep.equal([]);
    expect(cluster.plan).to.deep.equal([]);
  });
});
