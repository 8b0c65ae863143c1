import { expect } from 'chai';
import { hostname } from 'node:os';
import { execFileSync } from 'node:child_process';
import { MemoryLogger, isEbbtideError } from '@ebbtide/core';
import { asyncScheduler } from 'rxjs';
import { DaskComm, DaskSchedulerAdapter } from '../src/index.js';
import { liveHolder, markerKeys, parseMarker } from '../src/claim/clusterMarker.js';
import { adapterOptions } from './helpers/adapterOptions.js';
import { DASK_VERSIONS } from './helpers/daskVersions.js';
import { type SharedDask, sharedDask } from './helpers/sharedDask.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** One cluster per test, so tests never see each other's marks. */
let n = 0;
const cluster = () => `claim-${process.pid}-${n++}`;

for (const v of DASK_VERSIONS) describe(`DaskSchedulerAdapter.claim: one live ebbtide per cluster on a real Dask ${v.label} scheduler`, function () {
  this.timeout(60_000);
  let dask: SharedDask;
  const open: DaskSchedulerAdapter[] = [];
  const adapter = async (ttlMs = 30_000) => {
    const a = new DaskSchedulerAdapter(adapterOptions(dask.scheduler.address, { claimTtlMs: ttlMs }), new MemoryLogger(), asyncScheduler);
    open.push(a);
    await a.start();
    return a;
  };
  const mark = async (name: string, value: unknown) => {
    const comm = await DaskComm.connect(dask.scheduler.address, { connectTimeoutMs: 5000, callTimeoutMs: 5000, rx: asyncScheduler });
    try {
      await comm.call('set_metadata', { keys: markerKeys(name), value }, { allowNil: true });
    } finally {
      comm.close();
    }
  };
  const read = async (name: string) => {
    const comm = await DaskComm.connect(dask.scheduler.address, { connectTimeoutMs: 5000, callTimeoutMs: 5000, rx: asyncScheduler });
    try {
      return parseMarker(await comm.call('get_metadata', { keys: markerKeys(name), default: null }, { allowNil: true }));
    } finally {
      comm.close();
    }
  };

  before(async () => {
    dask = await sharedDask(v);
  });
  afterEach(async () => {
    for (const a of open.splice(0)) await a.close();
  });

  it('a second ebbtide of the same cluster is refused with CLUSTER_LOCKED naming the holder; after the first closes it may claim', async () => {
    const c = cluster();
    const first = await adapter();
    await first.claim(c);
    expect(await read(c)).to.include({ pid: process.pid, host: hostname() });
    const second = await adapter();
    const e = await rejection(second.claim(c));
    expect(isEbbtideError(e) && e.code).to.equal('CLUSTER_LOCKED');
    expect((e as Error).message).to.contain(`pid ${process.pid} on ${hostname()}`);
    await first.close();
    expect(await read(c), 'closing releases the mark').to.equal(undefined);
    await second.claim(c);
  });

  it('another cluster name on the same scheduler is not blocked', async () => {
    const a = await adapter();
    const b = await adapter();
    await a.claim(cluster());
    await b.claim(cluster());
  });

  it('the mark of an ebbtide that died on this host is taken over at once', async () => {
    const c = cluster();
    const dead = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
    await mark(c, { owner: 'gone', pid: dead, host: hostname(), renewedAt: Date.now(), ttlMs: 30_000 });
    const a = await adapter();
    await a.claim(c);
    expect((await read(c))!.pid).to.equal(process.pid);
  });

  it('a mark from another host that is still renewed blocks; one whose holder stopped renewing is taken over once it expires', async () => {
    const c = cluster();
    const ttlMs = 900;
    // A live holder elsewhere: it renews its mark every third of its ttl.
    let renewing = true;
    const renew = async () => {
      while (renewing) {
        await mark(c, { owner: 'elsewhere', pid: 1, host: 'other-host', renewedAt: Date.now(), ttlMs });
        await new Promise((r) => setTimeout(r, ttlMs / 3));
      }
    };
    const renewer = renew();
    try {
      const a = await adapter();
      const e = await rejection(a.claim(c));
      expect(isEbbtideError(e) && e.code).to.equal('CLUSTER_LOCKED');
      expect((e as Error).message).to.contain('on other-host');
    } finally {
      renewing = false;
      await renewer;
    }
    // Its holder is gone: the mark stops being renewed, and expires.
    const b = await adapter();
    await b.claim(c);
    expect((await read(c))!.host).to.equal(hostname());
  });

  it('polls renew the mark', async () => {
    const c = cluster();
    // A 600 ms ttl is renewed every 200 ms poll that comes 200 ms after the last renewal.
    const a = await adapter(600);
    await a.claim(c);
    const before = (await read(c))!.renewedAt;
    let after = before;
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = (await read(c))!.renewedAt;
    }
    expect(after).to.be.above(before);
  });
});

describe('liveHolder', () => {
  it('own marks and expired marks hold nothing', () => {
    const now = 1_000_000;
    const m = { owner: 'x', pid: 1, host: 'h', renewedAt: now - 10, ttlMs: 100 };
    expect(liveHolder(m, 'x', now)).to.equal(undefined);
    expect(liveHolder(m, 'y', now)).to.deep.equal(m);
    expect(liveHolder({ ...m, renewedAt: now - 101 }, 'y', now)).to.equal(undefined);
    expect(liveHolder(parseMarker('garbage'), 'y', now)).to.equal(undefined);
  });
});
