import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { MemoryLogger, type SchedulerEvent, type SchedulerSnapshot, SchedulerStateStore, validateSnapshot } from '@ebbtide/core';
import { advance } from '@ebbtide/core/testing';
import { VirtualTimeScheduler, asyncScheduler } from 'rxjs';
import { DaskComm, DaskSchedulerAdapter, KEPT_REASON, parseTaskStream, prefixOfKey } from '../src/index.js';
import { type SchedulerView, adapterOptions } from './helpers/adapterOptions.js';
import { ProcessRegistry, PythonClient, startScheduler, startWorker } from './helpers/daskProcesses.js';
import { DASK_VERSIONS } from './helpers/daskVersions.js';
import { type SharedDask, sharedDask } from './helpers/sharedDask.js';
import { first, until } from './helpers/waitFor.js';

/** Adapter snapshots compared with the scheduler's own state (read from its internals by the Python client). */
for (const v of DASK_VERSIONS) describe(`DaskSchedulerAdapter against a real Dask ${v.label} scheduler`, function () {
  this.timeout(60_000);
  let dask: SharedDask;
  let adapter: DaskSchedulerAdapter;
  const events: SchedulerEvent[] = [];
  let latest: SchedulerSnapshot | undefined;

  const view = async () => (await dask.client.request({ cmd: 'scheduler_view' })) as unknown as SchedulerView;

  before(async () => {
    dask = await sharedDask(v);
    adapter = new DaskSchedulerAdapter(adapterOptions(dask.scheduler.address), new MemoryLogger(), asyncScheduler);
    adapter.events$.subscribe((e) => {
      events.push(e);
      if (e.type === 'snapshot') latest = e.snapshot;
    });
    await adapter.start();
  });
  after(async () => adapter?.close());

  it('start() emits a first snapshot, then connected; workers as the scheduler lists them', async () => {
    expect(events.slice(0, 2).map((e) => e.type)).to.deep.equal(['snapshot', 'connection']);
    expect(events[1]).to.deep.equal({ type: 'connection', connected: true });
    const first = (events[0] as { snapshot: SchedulerSnapshot }).snapshot;
    const oracle = await view();
    expect(first.workers.map((w) => ({ name: w.name, address: w.address, host: w.host, nthreads: w.nthreads, memoryLimit: w.memoryLimit, status: w.status }))).to.deep.equal(
      oracle.workers.filter((w) => w.name === 'w1' || w.name === 'w2').map((w) => ({ name: w.name, address: w.address, host: w.host, nthreads: w.nthreads, memoryLimit: w.memoryLimit, status: 'running' })),
    );
  });

  it('a late subscriber first receives the latest snapshot and connection state', async () => {
    const replay: SchedulerEvent[] = [];
    const sub = adapter.events$.subscribe((e) => replay.push(e));
    sub.unsubscribe();
    expect(replay.map((e) => e.type)).to.deep.equal(['snapshot', 'connection']);
  });

  describe('with work frozen on the workers', () => {
    let gate: string;
    const keys = [...Array(10).keys()].map((i) => `block-${i}`);
    const others = ['longrun-1', 'gpu-1', ['tup-ab12cd34', 0]];

    before(async () => {
      gate = join(dask.registry.tempDir('adapter-gate'), 'open');
      // The seceding task goes first, while a thread is free, so it really starts and secedes.
      await dask.client.request({ cmd: 'submit_blocking', key: 'longrun-1', gate, secede: true });
      await first(adapter.events$, (e) => e.type === 'snapshot' && e.snapshot.workers.some((w) => w.longRunning === 1), 'a long-running task');
      await dask.client.request({ cmd: 'map_blocking', prefix: 'block', n: 10, gate });
      await dask.client.request({ cmd: 'submit_blocking', key: 'gpu-1', gate, resources: { GPU: 1 } });
      await dask.client.request({ cmd: 'submit_blocking', key: ['tup-ab12cd34', 0], gate });
    });
    after(async () => {
      writeFileSync(gate, '');
      await dask.client.request({ cmd: 'release', keys: [...keys, ...others] });
    });

    it("matches the scheduler's processing per prefix, long-running, queued and unrunnable counts", async () => {
      const agreed = await until(async () => {
        const oracle = await view();
        const s = latest!;
        const ours = s.workers.map((w) => ({ name: w.name, processing: w.processing, longRunning: w.longRunning }));
        const theirs = oracle.workers.map((w) => ({ name: w.name, processing: w.processing, longRunning: w.longRunning }));
        const pending = Object.fromEntries(
          Object.entries(s.prefixes).filter(([, p]) => p.queued + p.unrunnable > 0).map(([n, p]) => [n, { queued: p.queued, unrunnable: p.unrunnable }]),
        );
        // The client's submit returns before the scheduler has taken every task in: wait for the last one too.
        const complete = oracle.prefixes['gpu'] !== undefined;
        return complete && isDeepStrictEqual(ours, theirs) && isDeepStrictEqual(pending, oracle.prefixes) ? { s, oracle } : undefined;
      }, 'the adapter snapshot to agree with the scheduler');
      // What the scheduler holds: 2 block tasks per worker (saturation 1.1 × 1 thread), 6 queued,
      // the GPU task unrunnable, the seceded one long-running, the tuple-keyed one processing.
      const { s } = agreed;
      expect(s.prefixes['block']).to.include({ queued: 6, unrunnable: 0 });
      expect(s.prefixes['gpu']).to.include({ queued: 0, unrunnable: 1 });
      // Its restriction, read from the scheduler's task dump: demand for one GPU.
      expect(s.resources).to.deep.equal({ GPU: { waiting: 1, processing: 0, units: { gpu: 1 } } });
      expect(s.workers.map((w) => w.processing['block'])).to.deep.equal([2, 2]);
      expect(s.workers.reduce((n, w) => n + w.longRunning, 0)).to.equal(1);
      expect(s.workers.reduce((n, w) => n + (w.processing['tup'] ?? 0), 0)).to.equal(1);
      expect(s.workers.some((w) => 'longrun' in w.processing)).to.equal(false);
      // The same snapshot is a valid `ebbtide decide` input and what core's store sees.
      expect(() => validateSnapshot(JSON.parse(JSON.stringify(s)))).not.to.throw();
      const store = new SchedulerStateStore();
      store.apply({ type: 'snapshot', snapshot: s });
      expect(store.counts()).to.deep.equal({ workers: 2, queued: 6, unrunnable: 1, processing: 6 });
    });

    it('estimates how long executing tasks have run (maxExecTime), never decreasing', async () => {
      const a = await first(adapter.events$, (e) => e.type === 'snapshot' && (e.snapshot.prefixes['block']?.maxExecTime ?? -1) >= 0, 'block tasks executing');
      const before = (a as { snapshot: SchedulerSnapshot }).snapshot.prefixes['block']!.maxExecTime;
      const b = await first(adapter.events$, (e) => e.type === 'snapshot' && e.snapshot.time > (a as { snapshot: SchedulerSnapshot }).snapshot.time, 'a later snapshot');
      expect((b as { snapshot: SchedulerSnapshot }).snapshot.prefixes['block']!.maxExecTime).to.be.at.least(before);
      expect((b as { snapshot: SchedulerSnapshot }).snapshot.prefixes['block']!.durationAverage).to.equal(-1);
    });
  });

  it("learns per-prefix durations as Dask does: EWMA (alpha 0.5) of the task stream's compute times", async () => {
    await dask.client.request({ cmd: 'run_sleeps', prefix: 'nap', n: 3, seconds: 0.05 });
    const comm = await DaskComm.connect(dask.scheduler.address, { connectTimeoutMs: 5000, callTimeoutMs: 5000 });
    let expected = -1;
    try {
      for (const e of parseTaskStream(await comm.call('get_task_stream'))) {
        if (prefixOfKey(e.key) !== 'nap') continue;
        for (const ss of e.startstops) if (ss.action === 'compute') expected = expected < 0 ? ss.stop - ss.start : 0.5 * (ss.stop - ss.start) + 0.5 * expected;
      }
    } finally {
      comm.close();
    }
    expect(expected).to.be.at.least(0.05);
    await until(() => (latest?.prefixes['nap']?.durationAverage === expected ? true : undefined), `nap durationAverage = ${expected}`);
  });

  it('reports the bytes a worker holds as the scheduler counts them (ws.nbytes)', async () => {
    const w2 = dask.workers[1]!;
    await dask.client.request({ cmd: 'put_bytes', key: 'held-by-w2', nbytes: 100_000, worker: w2.address });
    try {
      const nbytes = await until(async () => {
        const theirs = (await view()).workers.find((w) => w.name === 'w2')!.nbytes;
        const ours = latest!.workers.find((w) => w.name === 'w2')!.nbytes;
        return theirs >= 100_000 && ours === theirs ? ours : undefined;
      }, 'w2 nbytes to match the scheduler');
      expect(nbytes).to.be.at.least(100_000);
    } finally {
      await dask.client.request({ cmd: 'release', keys: ['held-by-w2'] });
    }
  });

  it('polls on the injected RxJS scheduler: no poll until its clock moves', async () => {
    const rx = new VirtualTimeScheduler();
    const virtual = new DaskSchedulerAdapter(adapterOptions(dask.scheduler.address, { pollIntervalMs: 60_000 }), new MemoryLogger(), rx);
    const snapshots: SchedulerSnapshot[] = [];
    virtual.events$.subscribe((e) => e.type === 'snapshot' && snapshots.push(e.snapshot));
    try {
      await virtual.start();
      expect(snapshots.map((s) => s.time)).to.deep.equal([0]);
      await advance(rx, 60_000);
      await until(() => (snapshots.length === 2 ? true : undefined), 'the second poll');
      expect(snapshots.map((s) => s.time)).to.deep.equal([0, 60]);
    } finally {
      await virtual.close();
    }
  });

  it('polls less while nothing changes, skipping identity, and is back to the poll interval once something moves', async () => {
    const rx = new VirtualTimeScheduler();
    const log = new MemoryLogger();
    const virtual = new DaskSchedulerAdapter(adapterOptions(dask.scheduler.address, { pollIntervalMs: 1000, maxPollIntervalMs: 4000 }), log, rx);
    const times: number[] = [];
    virtual.events$.subscribe((e) => e.type === 'snapshot' && times.push(e.snapshot.time));
    const polls = () => log.records.filter((r) => r.fields['event'] === 'scheduler.poll').map((r) => r.fields as { changed: boolean; identity: boolean; nextMs: number });
    /** Moves the virtual clock to the next poll and waits for its snapshot. */
    const step = async () => {
      const n = times.length;
      await advance(rx, polls().at(-1)!.nextMs);
      await until(() => (times.length === n + 1 ? true : undefined), `poll ${n + 1}`);
    };
    try {
      await virtual.start();
      // Whatever earlier tests left settling, the cluster goes quiet and the wait grows to the cap.
      for (let i = 0; i < 12 && polls().at(-1)!.nextMs < 4000; i++) await step();
      expect(polls().at(-1)!.nextMs).to.equal(4000);
      await step();
      expect(polls().at(-1)).to.deep.include({ changed: false, nextMs: 4000 });
      await dask.client.request({ cmd: 'put_bytes', key: 'backoff-probe', nbytes: 1000, worker: dask.workers[0]!.address });
      await step();
      expect(polls().at(-1)).to.deep.include({ changed: true, nextMs: 1000 });
      await step();
      // Each poll came exactly the wait the previous one chose after it, on the injected clock.
      const gaps = times.slice(1).map((t, i) => Math.round((t - times[i]!) * 1000));
      expect(gaps).to.deep.equal(polls().slice(0, -1).map((p) => p.nextMs));
      expect(gaps).to.include.members([2000, 4000]);
      // Quiet polls at rest read no identity; the first poll and the one that saw the new task did.
      expect(polls()[0]!.identity).to.equal(true);
      expect(polls().some((p) => !p.changed && !p.identity)).to.equal(true);
      expect(polls().at(-2)!.identity).to.equal(true);
    } finally {
      await virtual.close();
      await dask.client.request({ cmd: 'release', keys: ['backoff-probe'] });
    }
  });

  it('retire: a worker holding the only copy of a result is retired after its data moves; unknown names are unknown', async () => {
    const w3 = await startWorker(dask.registry, dask.scheduler.address, 'w3');
    await first(adapter.events$, (e) => e.type === 'snapshot' && e.snapshot.workers.some((w) => w.name === 'w3'), 'w3 in a snapshot');
    const put = await dask.client.request({ cmd: 'put_bytes', key: 'only-on-w3', nbytes: 1_000_000, worker: w3.address, seed: 42 });
    expect(put['who_has']).to.deep.equal({ 'only-on-w3': [w3.address] });
    const comm = await DaskComm.connect(dask.scheduler.address, { connectTimeoutMs: 5000, callTimeoutMs: 5000 });
    const sizes = (await comm.call('nbytes', { keys: ['only-on-w3'], summary: false })) as Record<string, number>;
    comm.close();

    const result = await adapter.retire(['w3', 'ghost']);

    expect(result.outcomes).to.deep.equal([
      { name: 'w3', status: 'retired', movedBytes: sizes['only-on-w3'] },
      { name: 'ghost', status: 'unknown', reason: 'the scheduler has no worker of this name' },
    ]);
    expect(await dask.client.request({ cmd: 'gather', key: 'only-on-w3' })).to.include({ nbytes: 1_000_000, first: 42 });
    expect(await Promise.race([w3.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), 15_000))])).to.equal('exited');
    await first(adapter.events$, (e) => e.type === 'snapshot' && !e.snapshot.workers.some((w) => w.name === 'w3'), 'a snapshot without w3');
    await dask.client.request({ cmd: 'release', keys: ['only-on-w3'] });
  });
});

for (const v of DASK_VERSIONS) describe(`DaskSchedulerAdapter.retire with nowhere to move the data (Dask ${v.label})`, function () {
  this.timeout(60_000);
  const reg = new ProcessRegistry(v);
  after(() => reg.killAll());

  it('keeps the only worker, which holds the only copy of a result; the data stays gatherable', async () => {
    const scheduler = await startScheduler(reg);
    const [w9, client] = await Promise.all([startWorker(reg, scheduler.address, 'w9'), PythonClient.start(reg, scheduler.address)]);
    await client.request({ cmd: 'put_bytes', key: 'stuck-1', nbytes: 10_000, worker: w9.address });
    const adapter = new DaskSchedulerAdapter(adapterOptions(scheduler.address), new MemoryLogger(), asyncScheduler);
    try {
      const result = await adapter.retire(['w9']);
      // What stopping it would lose: the one result only it holds.
      expect(result.outcomes).to.deep.equal([{ name: 'w9', status: 'kept', reason: KEPT_REASON, held: { count: 1, keys: ['stuck-1'] } }]);
      const workers = (await client.request({ cmd: 'workers' }))['workers'] as Record<string, string>;
      expect(workers).to.deep.equal({ [w9.address]: 'w9' });
      expect(await client.request({ cmd: 'gather', key: 'stuck-1' })).to.include({ nbytes: 10_000 });
    } finally {
      await adapter.close();
    }
  });
});
