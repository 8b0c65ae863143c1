import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordIOParser } from '@ebbtide/backend-mesos';
import { type TestMaster, startTestMaster } from '../support/mesos.js';
import { ROOT } from '../support/paths.js';
import { alive, until } from '../support/processes.js';

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${url}/api/v1/scheduler`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

interface Stream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: Array<Record<string, any>>;
  close(): void;
}

/** SUBSCRIBE with Node's http, collecting the stream's events. */
function subscribe(url: string, info: Record<string, unknown>, extra: Record<string, unknown> = {}, headers: Record<string, string> = JSON_HEADERS): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/scheduler`, { method: 'POST', headers });
    req.once('error', reject);
    req.once('response', (res) => {
      const parser = new RecordIOParser();
      const s: Stream = { status: res.statusCode!, headers: res.headers, events: [], close: () => req.destroy() };
      // Only a 200 is a stream; other answers carry a plain-text reason.
      if (res.statusCode === 200) res.on('data', (c: Buffer) => s.events.push(...parser.push(c).map((r) => JSON.parse(r) as Record<string, any>)));
      else res.resume();
      res.on('error', () => undefined);
      resolve(s);
    });
    req.end(JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: info }, ...extra }));
  });
}

describe('Mesos test master: the v1 scheduler API as Mesos 1.11 answers it', function () {
  this.timeout(60_000);
  let tm: TestMaster;
  const streams: Stream[] = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await tm?.stop();
  });
  const info = { user: 'root', name: 'probe', failover_timeout: 60, capabilities: [{ type: 'MULTI_ROLE' }], roles: ['analytics'] };

  it('SUBSCRIBE: 200, Mesos-Stream-Id, RecordIO events: SUBSCRIBED first, then offers for the role and heartbeats', async () => {
    tm = await startTestMaster();
    const s = await subscribe(tm.master.url(), info);
    streams.push(s);
    expect(s.status).to.equal(200);
    expect(s.headers['mesos-stream-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(s.headers['content-type']).to.equal('application/json');
    await until(() => s.events.some((e) => e.type === 'OFFERS') && s.events.some((e) => e.type === 'HEARTBEAT'), 10_000, 'offers and a heartbeat');
    expect(s.events[0]!.type).to.equal('SUBSCRIBED');
    expect(s.events[0]!.subscribed.heartbeat_interval_seconds).to.equal(1);
    const offer = s.events.find((e) => e.type === 'OFFERS')!.offers.offers[0];
    expect(offer.allocation_info).to.deep.equal({ role: 'analytics' });
    expect(offer.resources.find((r: any) => r.name === 'cpus')).to.deep.equal({ name: 'cpus', type: 'SCALAR', scalar: { value: 8 }, role: '*', allocation_info: { role: 'analytics' } });
  });

  it('clients asking for RecordIO by name (Accept: application/recordio) get Content-Type application/recordio and Message-Content-Type', async () => {
    tm = await startTestMaster();
    const s = await subscribe(tm.master.url(), info, {}, { 'Content-Type': 'application/json', Accept: 'application/recordio', 'Message-Accept': 'application/json' });
    streams.push(s);
    expect(s.headers['content-type']).to.equal('application/recordio');
    expect(s.headers['message-content-type']).to.equal('application/json');
  });

  it('answers 400 for malformed calls, 403 before SUBSCRIBED, 415 for protobuf, 503 while recovering', async () => {
    tm = await startTestMaster();
    const url = tm.master.url();
    expect((await post(url, '{not json')).status).to.equal(400);
    expect((await post(url, { type: 'NOPE' })).status).to.equal(400);
    expect((await post(url, { type: 'REVIVE' })).text).to.match(/framework_id/);
    expect((await post(url, { type: 'REVIVE', framework_id: { value: 'nobody' } }, { 'Mesos-Stream-Id': 'x' })).status).to.equal(403);
    const bad = await subscribe(url, info, {}, { ...JSON_HEADERS, 'Mesos-Stream-Id': 'x' });
    expect(bad.status, 'SUBSCRIBE must not carry a stream id').to.equal(400);
    expect((await post(url, { type: 'SUBSCRIBE' }, { 'Content-Type': 'application/x-protobuf' })).status).to.equal(415);
    const s = await subscribe(url, info);
    streams.push(s);
    await until(() => s.events.length > 0, 5000, 'SUBSCRIBED');
    const fid = s.events[0]!.subscribed.framework_id;
    expect((await post(url, { type: 'REVIVE', framework_id: fid })).status, 'no stream id').to.equal(400);
    expect((await post(url, { type: 'REVIVE', framework_id: fid }, { 'Mesos-Stream-Id': 'wrong' })).text).to.match(/didn't match the stream ID/);
    expect((await post(url, { type: 'REVIVE', framework_id: fid }, { 'Mesos-Stream-Id': String(s.headers['mesos-stream-id']) })).status).to.equal(202);
    tm.master.setUnavailable(true);
    expect((await post(url, { type: 'REVIVE', framework_id: fid }, { 'Mesos-Stream-Id': String(s.headers['mesos-stream-id']) })).status).to.equal(503);
  });

  it('a non-leading replica answers 307 with a scheme-less Location of the leader', async () => {
    tm = await startTestMaster({ replicas: 2 });
    const r = await post(tm.master.url(1), { type: 'SUBSCRIBE', subscribe: { framework_info: info } });
    expect(r.status).to.equal(307);
    expect(r.headers.get('location')).to.equal(`//${new URL(tm.master.url(0)).host}/api/v1/scheduler`);
  });

  it('a second SUBSCRIBE with the framework id fails the first stream over (ERROR) and keeps the framework; TEARDOWN removes it', async () => {
    tm = await startTestMaster();
    const url = tm.master.url();
    const a = await subscribe(url, info);
    streams.push(a);
    await until(() => a.events.length > 0, 5000, 'SUBSCRIBED');
    const fid = a.events[0]!.subscribed.framework_id;
    const b = await subscribe(url, { ...info, id: fid }, { framework_id: fid });
    streams.push(b);
    await until(() => a.events.some((e) => e.type === 'ERROR') && b.events.length > 0, 5000, 'failed over');
    expect(a.events.find((e) => e.type === 'ERROR')!.error.message).to.equal('Framework failed over');
    expect(b.events[0]!.subscribed.framework_id).to.deep.equal(fid);
    expect((await post(url, { type: 'TEARDOWN', framework_id: fid }, { 'Mesos-Stream-Id': String(b.headers['mesos-stream-id']) })).status).to.equal(202);
    const again = await subscribe(url, { ...info, id: fid }, { framework_id: fid });
    streams.push(again);
    await until(() => again.events.length > 0, 5000, 'an answer');
    expect(again.events[0]).to.deep.equal({ type: 'ERROR', error: { message: 'Framework has been removed' } });
  });

  it('operator endpoints /master/state and /master/tasks answer in the real master\'s shape', async () => {
    tm = await startTestMaster();
    const state = (await (await fetch(`${tm.master.url()}/master/state`)).json()) as Record<string, any>;
    for (const k of ['version', 'id', 'pid', 'hostname', 'leader', 'leader_info', 'activated_slaves', 'slaves', 'frameworks', 'completed_frameworks', 'flags']) expect(state, k).to.have.property(k);
    expect(state.slaves[0].resources).to.deep.equal({ cpus: 8, disk: 10240, gpus: 0, mem: 16384 });
    expect(((await (await fetch(`${tm.master.url()}/master/tasks`)).json()) as Record<string, unknown>).tasks).to.deep.equal([]);
  });

  it('start.mjs prints "ready MESOS_MASTER=http://127.0.0.1:PORT", answers, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-start-'));
    const p = spawn(process.execPath, [join(ROOT, 'test', 'servers', 'mesos', 'start.mjs'), '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    try {
      await until(() => /^ready MESOS_MASTER=http:\/\/127\.0\.0\.1:\d+$/m.test(out), 20_000, 'the ready line');
      const url = /MESOS_MASTER=(\S+)/.exec(out)![1]!;
      expect((await fetch(`${url}/master/state`)).status).to.equal(200);
      p.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (p.pid && alive(p.pid)) p.kill('SIGKILL');
    }
  });
});
