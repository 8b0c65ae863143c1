import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEbbtideError } from '@ebbtide/core';
import { DaskComm, keyFromId, keyId, parseIdentity, parseProcessing, parseTaskStream } from '../src/index.js';
import { type SharedDask, sharedDask } from './helpers/sharedDask.js';
import { DASK_VERSIONS } from './helpers/daskVersions.js';
import { until } from './helpers/waitFor.js';

/**
 * Every op the adapter uses, against a real Dask scheduler of each tested release with real workers and a real
 * Python client (Debian's python3-distributed).
 */
for (const v of DASK_VERSIONS) describe(`DaskComm against a real Dask ${v.label} scheduler`, function () {
  this.timeout(60_000);
  let dask: SharedDask;
  let comm: DaskComm;
  let gate: string;

  before(async () => {
    dask = await sharedDask(v);
    comm = await DaskComm.connect(dask.scheduler.address, { connectTimeoutMs: 10_000, callTimeoutMs: 10_000 });
    gate = join(dask.registry.tempDir('gate'), 'open');
  });
  after(async () => {
    writeFileSync(gate, '');
    comm?.close();
  });

  it('receives the scheduler handshake (compression, python, pickle-protocol)', () => {
    expect(comm.peerHandshake).to.have.keys('compression', 'python', 'pickle-protocol');
    expect(comm.peerHandshake['pickle-protocol']).to.equal(5);
  });

  it('identity: both workers with their names, threads and heartbeat metrics', async () => {
    const workers = parseIdentity(await comm.call('identity'));
    expect(workers.map((w) => w.name).sort()).to.deep.equal(['w1', 'w2']);
    expect(workers.map((w) => w.address).sort()).to.deep.equal(dask.workers.map((w) => w.address).sort());
    for (const w of workers) {
      expect(w).to.include({ host: '127.0.0.1', nthreads: 1, status: 'running' });
      expect(w.memoryLimit).to.be.greaterThan(0);
      expect(w.longRunning).to.equal(0);
    }
  });

  it('processing, who_has, get_task_prefix_states, get_task_status: queued and no-worker tasks', async () => {
    rmSync(gate, { force: true });
    const keys = [...Array(10).keys()].map((i) => `probe-${i}`);
    // Dask 2022.12 clients stringify tuple keys before sending them: the scheduler sees "('tuple-ab12cd34', 7)".
    // Newer ones send the tuple, which arrives as an array (and as a map key, as its keyId).
    const tupleKey = v.tupleKeys === 'stringified' ? "('tuple-ab12cd34', 7)" : keyId(['tuple-ab12cd34', 7]);
    try {
      await dask.client.request({ cmd: 'map_blocking', prefix: 'probe', n: 10, gate });
      await dask.client.request({ cmd: 'submit_blocking', key: 'nogpu-1', gate, resources: { GPU: 1 } });
      await dask.client.request({ cmd: 'submit_blocking', key: ['tuple-ab12cd34', 7], gate });

      const processing = await until(async () => {
        const p = parseProcessing(await comm.call('processing'));
        return [...p.values()].flat().length === 5 ? p : undefined;
      }, '5 processing tasks');
      expect([...processing.values()].flat()).to.include(tupleKey);

      const whoHas = (await comm.call('who_has')) as Record<string, string[]>;
      expect(Object.keys(whoHas)).to.include.members(['probe-0', 'probe-9', 'nogpu-1', tupleKey]);

      // Neither release reports queued or no-worker counts here: that is why the adapter asks get_task_status.
      const states = (await comm.call('get_task_prefix_states')) as Record<string, Record<string, number>>;
      expect(states['probe']).to.deep.equal({ memory: 0, erred: 0, released: 0, processing: 4, waiting: 0 });
      expect(states).not.to.have.property('nogpu');

      const status = (await comm.call('get_task_status', { keys: [...keys, 'nogpu-1', keyFromId(tupleKey), 'never-seen'] })) as Record<string, string | null>;
      expect(keys.map((k) => status[k]).filter((s) => s === 'queued')).to.have.length(6);
      expect(keys.map((k) => status[k]).filter((s) => s === 'processing')).to.have.length(4);
      expect(status['nogpu-1']).to.equal('no-worker');
      expect(status[tupleKey]).to.equal('processing');
      expect(status['never-seen']).to.equal(null);
    } finally {
      writeFileSync(gate, '');
      await dask.client.request({ cmd: 'release', keys: [...keys, 'nogpu-1', ['tuple-ab12cd34', 7]] });
    }
  });

  it('get_task_stream: compute start/stop of completed tasks once enabled', async () => {
    await comm.call('get_task_stream', { count: 1 }); // enables the plugin if nobody did
    await dask.client.request({ cmd: 'run_sleeps', prefix: 'streamed', n: 2, seconds: 0.05 });
    const entries = parseTaskStream(await comm.call('get_task_stream', { count: 50 })).filter((e) => String(e.key).startsWith('streamed-'));
    expect(entries.map((e) => e.key).sort()).to.deep.equal(['streamed-0', 'streamed-1']);
    for (const e of entries) {
      expect(e.status).to.equal('OK');
      const compute = e.startstops.find((s) => s.action === 'compute')!;
      expect(compute.stop - compute.start).to.be.at.least(0.05);
    }
  });

  it('has_what and nbytes: where a result lives and its size', async () => {
    const w1 = dask.workers[0]!;
    await dask.client.request({ cmd: 'put_bytes', key: 'sized-1', nbytes: 4096, worker: w1.address });
    const hasWhat = (await comm.call('has_what', { workers: [w1.address] })) as Record<string, unknown[]>;
    expect(hasWhat[w1.address]).to.include('sized-1');
    const sizes = (await comm.call('nbytes', { keys: ['sized-1'], summary: false })) as Record<string, number>;
    expect(sizes['sized-1']).to.be.at.least(4096);
    await dask.client.request({ cmd: 'release', keys: ['sized-1'] });
  });

  it('an exception in a handler comes back as SCHEDULER_PROTOCOL with its exception_text; the connection survives', async () => {
    try {
      await comm.call('get_task_status', { keys: null });
      expect.fail('expected a rejection');
    } catch (e) {
      expect(isEbbtideError(e) && e.code).to.equal('SCHEDULER_PROTOCOL');
      expect((e as Error).message).to.contain(`raised an error in op "get_task_status": TypeError("'NoneType' object is not iterable")`);
    }
    expect(parseIdentity(await comm.call('identity'))).to.have.length(2);
  });

  it('an op the scheduler does not have is a clear SCHEDULER_PROTOCOL error', async () => {
    try {
      await comm.call('adaptive_target_v2');
      expect.fail('expected a rejection');
    } catch (e) {
      expect(isEbbtideError(e) && e.code).to.equal('SCHEDULER_PROTOCOL');
      expect((e as Error).message).to.match(/has no handler for op "adaptive_target_v2"/);
    }
  });

  it("the scheduler's dashboard port is not a comm port: SCHEDULER_PROTOCOL", async () => {
    const identity = (await comm.call('identity')) as { services: { dashboard: number } };
    const dashboard = `tcp://127.0.0.1:${identity.services.dashboard}`;
    try {
      await DaskComm.connect(dashboard, { connectTimeoutMs: 300, callTimeoutMs: 300 });
      expect.fail('expected a rejection');
    } catch (e) {
      expect(isEbbtideError(e) && e.code).to.equal('SCHEDULER_PROTOCOL');
      expect((e as Error).message).to.contain(dashboard).and.match(/no Dask handshake/);
    }
  });
});
