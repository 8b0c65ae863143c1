import { expect } from 'chai';
import { type AddressInfo, createServer } from 'node:net';
import { MemoryLogger, type SchedulerEvent } from '@ebbtide/core';
import { asyncScheduler } from 'rxjs';
import { DaskSchedulerAdapter } from '../src/index.js';
import { adapterOptions } from './helpers/adapterOptions.js';
import { ProcessRegistry, startScheduler, startWorker } from './helpers/daskProcesses.js';
import { DASK_VERSIONS } from './helpers/daskVersions.js';
import { type Peer, daskLike, send } from './helpers/scriptedPeer.js';
import { first } from './helpers/waitFor.js';
import { rejection } from './helpers/rejection.js';

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}


/**
 * A scripted scheduler with one worker and no tasks, answering the ops a poll makes; `failNext`
 * makes the next `processing` (the first call of every poll) raise inside the "scheduler".
 */
async function scriptedScheduler(): Promise<Peer & { failNext(): void }> {
  let fail = false;
  const p = await daskLike((s, m) => {
    switch (m['op']) {
      case 'identity':
        send(s, { workers: { 'tcp://10.0.0.1:1': { name: 7, host: '10.0.0.1', nthreads: 4, memory_limit: 0, status: 'running', metrics: {} } } });
        return;
      case 'processing':
        if (fail) {
          fail = false;
          send(s, { status: 'uncaught-error', exception: { __Pickled__: 1 }, exception_text: "RuntimeError('boom')", traceback_text: '' });
        } else {
          send(s, { 'tcp://10.0.0.1:1': [] });
        }
        return;
      case 'ncores_running':
        send(s, { 'tcp://10.0.0.1:1': 4 });
        return;
      case 'who_has':
      case 'get_task_prefix_states':
        send(s, {});
        return;
      case 'get_task_stream':
        send(s, []);
        return;
      default:
        send(s, null);
    }
  });
  return Object.assign(p, { failNext: () => (fail = true) });
}

const retries = (log: MemoryLogger) => log.records.filter((r) => r.fields['event'] === 'scheduler.connect.retry');

describe('DaskSchedulerAdapter failure paths', function () {
  this.timeout(60_000);

  it('start() gives up with SCHEDULER_UNREACHABLE after maxStartAttempts, logging each retry and its backoff', async () => {
    const address = `tcp://127.0.0.1:${await freePort()}`;
    const log = new MemoryLogger();
    const adapter = new DaskSchedulerAdapter(adapterOptions(address, { maxStartAttempts: 3 }), log, asyncScheduler);
    const e = await rejection(adapter.start());
    expect(e.code).to.equal('SCHEDULER_UNREACHABLE');
    expect(e.key).to.equal('scheduler.address');
    expect(e.message).to.equal(`Dask scheduler at ${address}: cannot connect: connect ECONNREFUSED ${address.slice(6)} (gave up after 3 attempts)`);
    expect(retries(log).map((r) => [r.level, r.fields['address'], r.fields['attempt'], r.fields['delayMs']])).to.deep.equal([
      ['warn', address, 1, 1000],
      ['warn', address, 2, 2000],
    ]);
    await adapter.close();
  });

  it('start() fails at once with SCHEDULER_PROTOCOL when the address answers in another protocol', async () => {
    const server = createServer((s) => s.end('SSH-2.0-OpenSSH_9.2p1\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const log = new MemoryLogger();
    const adapter = new DaskSchedulerAdapter(adapterOptions(address, { maxStartAttempts: 0 }), log, asyncScheduler);
    try {
      const e = await rejection(adapter.start());
      expect(e.code).to.equal('SCHEDULER_PROTOCOL');
      expect(e.message).to.contain(address).and.match(/does not speak the Dask comm protocol/);
      expect(retries(log)).to.have.length(0);
    } finally {
      await adapter.close();
      server.close();
    }
  });

  for (const [what, breakIt, reason] of [
    ['a poll fails with an error reply', (p: Awaited<ReturnType<typeof scriptedScheduler>>) => p.failNext(), /RuntimeError\('boom'\)/],
    ['the connection drops', (p: Awaited<ReturnType<typeof scriptedScheduler>>) => p.dropConnections(), /closed the connection/],
  ] as const) {
    it(`when ${what}: connection false with the reason, then a fresh snapshot, then connection true`, async () => {
      const p = await scriptedScheduler();
      const log = new MemoryLogger();
      const adapter = new DaskSchedulerAdapter(adapterOptions(p.address, { pollIntervalMs: 50 }), log, asyncScheduler);
      const events: SchedulerEvent[] = [];
      adapter.events$.subscribe((e) => events.push(e));
      try {
        await adapter.start();
        expect(events[0]).to.deep.include({ type: 'snapshot' });
        breakIt(p);
        const lost = await first(adapter.events$, (e) => e.type === 'connection' && !e.connected, 'connection false');
        expect((lost as { reason: string }).reason).to.match(reason);
        const from = events.indexOf(lost);
        await first(adapter.events$, (e) => e.type === 'connection' && e.connected && events.indexOf(e) > from, 'connection true again');
        const after = events.slice(from);
        expect(after.map((e) => (e.type === 'connection' ? String(e.connected) : e.type))).to.deep.equal(['false', 'snapshot', 'true']);
        const rebuilt = (after[1] as { snapshot: { workers: Array<{ name: string; nthreads: number }> } }).snapshot;
        expect(rebuilt.workers.map((w) => [w.name, w.nthreads])).to.deep.equal([['7', 4]]);
        expect(log.records.filter((r) => r.level === 'warn').map((r) => r.fields['event'])).to.deep.equal(['scheduler.disconnected']);
      } finally {
        await adapter.close();
        await p.close();
      }
    });
  }

  it('close() during start() ends the retries: start() rejects', async () => {
    const adapter = new DaskSchedulerAdapter(adapterOptions(`tcp://127.0.0.1:${await freePort()}`, { maxStartAttempts: 0 }), new MemoryLogger(), asyncScheduler);
    const started = adapter.start();
    setTimeout(() => void adapter.close(), 50);
    const e = await rejection(started);
    expect(e.code).to.equal('SCHEDULER_UNREACHABLE');
    expect(e.message).to.match(/closed before the first connection/);
  });
});

for (const v of DASK_VERSIONS) describe(`DaskSchedulerAdapter failure paths against a real Dask ${v.label} scheduler`, function () {
  this.timeout(60_000);
  const reg = new ProcessRegistry(v);
  after(() => reg.killAll());

  it('start() waits for a scheduler that comes up later; a restart mid-run: connection false, a snapshot of the new scheduler, connection true', async () => {
    const port = await freePort();
    const address = `tcp://127.0.0.1:${port}`;
    const log = new MemoryLogger();
    const adapter = new DaskSchedulerAdapter(adapterOptions(address, { maxStartAttempts: 0 }), log, asyncScheduler);
    const events: SchedulerEvent[] = [];
    adapter.events$.subscribe((e) => events.push(e));
    try {
      const started = adapter.start();
      const old = await startScheduler(reg, port);
      const wa = await startWorker(reg, address, 'wa');
      await started;
      expect(retries(log).length).to.be.at.least(1);
      await first(adapter.events$, (e) => e.type === 'snapshot' && e.snapshot.workers.map((w) => w.name).join() === 'wa', 'a snapshot with wa');

      // The scheduler dies (and its worker with it); another one starts on the same address.
      const lostAt = events.length;
      old.kill();
      wa.kill();
      const lost = await first(adapter.events$, (e) => e.type === 'connection' && !e.connected, 'connection false');
      expect(lost).to.have.property('reason').that.is.a('string');
      await startScheduler(reg, port);
      await startWorker(reg, address, 'wb');
      await first(adapter.events$, (e) => e.type === 'snapshot' && e.snapshot.workers.map((w) => w.name).join() === 'wb', 'a snapshot with wb');

      const after = events.slice(lostAt);
      const back = after.findIndex((e) => e.type === 'connection' && e.connected);
      expect(after[0]).to.deep.include({ type: 'connection', connected: false });
      expect(after.slice(1, back - 1).every((e) => e.type !== 'snapshot'), 'no snapshot while disconnected').to.equal(true);
      // Rebuilt: the first snapshot after reconnecting comes from the new scheduler (no "wa"), before "connected".
      expect(after[back - 1]!.type).to.equal('snapshot');
      expect((after[back - 1] as { snapshot: { workers: Array<{ name: string }> } }).snapshot.workers.map((w) => w.name)).not.to.include('wa');
      expect(log.records.some((r) => r.level === 'warn' && r.fields['event'] === 'scheduler.disconnected' && r.fields['address'] === address)).to.equal(true);
    } finally {
      await adapter.close();
    }
  });
});
