import 'reflect-metadata';
import { expect } from 'chai';
import { createServer } from 'node:net';
import type { ClusterStatus } from '../src/clusterStatus.js';
import { DashboardServer } from '../src/DashboardServer.js';
import { rawGet, readEvents, startDashboard, wanted } from './helpers.js';

const getJson = async <T = Record<string, unknown>>(url: string, init: RequestInit = {}) => {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
};
const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  getJson(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('DashboardServer', function () {
  this.timeout(20_000);

  it('status: the repr, the three sets, the settings and the mode', async () => {
    const d = await startDashboard();
    try {
      wanted.value = 2;
      await d.auto.adaptive.tick();
      d.arrive(1000);
      const { status, body } = await getJson<ClusterStatus>(`${d.url}/api/status`);
      expect(status).to.equal(200);
      expect(body.repr).to.equal('EbbtideCluster(d, fake://scheduler, workers=2, threads=2, memory=2.00 MiB)');
      expect(body).to.deep.include({ cluster: 'd', workers: 2, threads: 2, mode: 'adaptive', manual: null, blind: null, capacityLimited: null, lastTick: 1 });
      expect(body.plan).to.deep.equal(['d-0', 'd-1']);
      expect(body.observed).to.deep.equal(['d-0', 'd-1']);
      expect(body.memory).to.deep.equal({ used: 2000, limit: 2 << 20 });
      expect(body.adaptive).to.deep.equal({ interval: 0, minimum: 0, maximum: 'inf', waitCount: 1, targetDuration: 5, historyLength: 1000 });
      expect(body.backends).to.deep.equal([{ pool: 'default', type: 'fake' }]);
    } finally {
      await d.stop();
    }
  });

  it('workers, decisions since N, one decision explained, series and logs', async () => {
    const d = await startDashboard();
    try {
      wanted.value = 2;
      await d.auto.adaptive.tick();
      d.arrive(4096);
      await d.auto.adaptive.tick();
      await d.auto.adaptive.tick();
      const workers = (await getJson<{ workers: Array<Record<string, unknown>> }>(`${d.url}/api/workers`)).body.workers;
      expect(workers.map((w) => [w.name, w.state, w.nbytes, w.pool])).to.deep.equal([
        ['d-0', 'running', 4096, 'default'],
        ['d-1', 'running', 4096, 'default'],
      ]);
      const all = (await getJson<{ decisions: Array<{ id: number; tick: number; count: number }>; last: number }>(`${d.url}/api/decisions`)).body;
      expect(all.decisions.map((e) => [e.id, e.tick, e.count])).to.deep.equal([
        [1, 1, 1],
        [2, 3, 2],
      ]);
      expect(all.last).to.equal(3);
      const since = (await getJson<{ decisions: unknown[] }>(`${d.url}/api/decisions?since=3`)).body;
      expect(since.decisions).to.deep.equal([]);
      expect((await getJson(`${d.url}/api/decisions?since=-1`)).status).to.equal(400);
      const one = (await getJson<{ entry: { id: number }; explanation: string[] }>(`${d.url}/api/decisions/1`)).body;
      expect(one.entry.id).to.equal(1);
      expect(one.explanation[0]).to.match(/^tick 1 at \d\d:\d\d:\d\d \[adaptive\]: scale up from 0 to 2 workers/);
      expect(one.explanation).to.include('done: started d-0, d-1');
      expect((await getJson(`${d.url}/api/decisions/2`)).body).to.have.nested.property('entry.tick', 3);
      expect((await getJson(`${d.url}/api/decisions/99`)).status).to.equal(404);
      const series = (await getJson<Record<string, number[]>>(`${d.url}/api/series`)).body;
      expect(series.observed).to.deep.equal([0, 2, 2]);
      expect(series.target).to.deep.equal([2, 2, 2]);
      const logs = (await getJson<{ lines: string[] }>(`${d.url}/api/logs?lines=5`)).body;
      expect(logs.lines[0]).to.equal('2026-01-01T00:00:00.000Z INFO  hello from the test event=test.hello');
      expect((await getJson(`${d.url}/api/logs?worker=nobody`)).status).to.equal(404);
      // The fake backend keeps no output: the API says it cannot, rather than answering nothing.
      expect((await getJson(`${d.url}/api/logs?worker=d-0`)).status).to.equal(501);
    } finally {
      await d.stop();
    }
  });

  it('POST /api/scale holds n workers (manual mode); POST /api/adapt goes back; bad values are 400, non-JSON 415', async () => {
    const d = await startDashboard();
    try {
      wanted.value = 3;
      await d.auto.adaptive.tick();
      d.arrive();
      const scaled = await postJson(`${d.url}/api/scale`, { n: 1 });
      expect(scaled).to.deep.equal({ status: 200, body: { mode: 'manual', minimum: 0, maximum: 'inf', n: 1 } });
      const r = await d.auto.adaptive.tick();
      expect(r.mode).to.equal('manual');
      expect(r.recommendation).to.deep.equal({ status: 'down', workers: ['d-2', 'd-1'] });
      expect(d.scheduler.retires).to.deep.equal([['d-2', 'd-1']]);
      expect((await getJson<ClusterStatus>(`${d.url}/api/status`)).body).to.deep.include({ mode: 'manual', manual: { n: 1 } });
      expect((await postJson(`${d.url}/api/scale`, { n: -1 })).status).to.equal(400);
      expect((await postJson(`${d.url}/api/scale`, {})).body).to.deep.equal({ error: { code: 'INPUT_INVALID', message: 'n: expected a whole number >= 0, got null' } });
      const text = await fetch(`${d.url}/api/scale`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"n":2}' });
      expect(text.status).to.equal(415);
      expect((await postJson(`${d.url}/api/adapt`, { minimum: 3, maximum: 2 })).status).to.equal(400);
      const adapted = await postJson(`${d.url}/api/adapt`, { minimum: 0, maximum: 'inf' });
      expect(adapted.body).to.deep.equal({ mode: 'adaptive', minimum: 0, maximum: 'inf' });
      expect((await postJson(`${d.url}/api/adapt`, { maximum: 4 })).body).to.deep.equal({ mode: 'adaptive', minimum: 0, maximum: 4 });
      expect((await d.auto.adaptive.tick()).mode).to.equal('adaptive');
      expect((await fetch(`${d.url}/api/scale`)).status).to.equal(405);
    } finally {
      await d.stop();
    }
  });

  it('streams each new history entry as a server-sent event, replays from since=, and ends when ebbtide stops', async () => {
    const d = await startDashboard();
    let stopped = false;
    try {
      await d.auto.adaptive.tick();
      const reading = readEvents(`${d.url}/api/decisions/stream?since=0`, (ev) => ev.some((e) => e.event === 'end'));
      // The replay (tick 1) arrives first; then tick 2 live, folded into the same entry; then the end.
      while (d.dash.streamClients === 0) await new Promise((r) => setImmediate(r));
      await d.auto.adaptive.tick();
      await d.stop();
      stopped = true;
      const { status, type, events } = await reading;
      expect(status).to.equal(200);
      expect(type).to.match(/^text\/event-stream/);
      const decisions = events.filter((e) => e.event === 'decision').map((e) => JSON.parse(e.data) as { id: number; tick: number; count: number; decision: { outcome?: { status: string } } });
      expect(decisions.map((e) => [e.id, e.tick, e.count])).to.deep.equal([
        [1, 1, 1],
        [1, 2, 2],
        [3, 3, 1],
      ]);
      expect(decisions.at(-1)!.decision.outcome!.status).to.equal('shutdown');
      expect(events.filter((e) => e.event === 'decision').map((e) => e.id)).to.deep.equal(['1', '2', '3']);
    } finally {
      if (!stopped) await d.stop();
    }
  });

  it('with a token: 401 without it or with a wrong one; the header or ?access_token= let a request in, and the page links carry it', async () => {
    const d = await startDashboard({ token: 's3cret' });
    try {
      const none = await fetch(`${d.url}/api/status`);
      expect(none.status).to.equal(401);
      expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="ebbtide"');
      expect((await fetch(`${d.url}/healthz`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401);
      expect((await fetch(`${d.url}/metrics`)).status).to.equal(401);
      expect((await fetch(`${d.url}/api/status`, { headers: { authorization: 'Bearer s3cret' } })).status).to.equal(200);
      expect((await fetch(`${d.url}/api/status?access_token=s3cret`)).status).to.equal(200);
      const page = await (await fetch(`${d.url}/?access_token=s3cret`)).text();
      expect(page).to.contain('src="static/app.js?access_token=s3cret"');
      expect(page).to.contain('href="static/style.css?access_token=s3cret"');
      expect((await fetch(`${d.url}/static/app.js?access_token=s3cret`)).status).to.equal(200);
      expect((await fetch(`${d.url}/static/app.js`)).status).to.equal(401);
      // With a token the Host header does not matter (it may be a real host name).
      expect((await rawGet(`${d.url}/healthz`, { host: 'ebbtide.example:8790', authorization: 'Bearer s3cret' })).status).to.equal(200);
    } finally {
      await d.stop();
    }
  });

  it('without a token, answers only requests whose Host names this machine (no DNS rebinding)', async () => {
    const d = await startDashboard();
    try {
      expect((await rawGet(`${d.url}/api/status`, { host: 'evil.example' })).status).to.equal(403);
      expect((await rawGet(`${d.url}/api/status`, { host: `localhost:${d.dash.port}` })).status).to.equal(200);
      expect((await rawGet(`${d.url}/api/status`, { host: `127.0.0.1:${d.dash.port}` })).status).to.equal(200);
    } finally {
      await d.stop();
    }
  });

  it('serves the page and its assets (uPlot from its npm package), and 404s the rest', async () => {
    const d = await startDashboard();
    try {
      const page = await fetch(`${d.url}/`);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.headers.get('content-security-policy')).to.contain("default-src 'self'");
      expect(await page.text()).to.contain('<div id="chart">');
      const uplot = await fetch(`${d.url}/static/uPlot.iife.min.js`);
      expect(uplot.status).to.equal(200);
      expect(await uplot.text()).to.contain('uPlot');
      const again = await fetch(`${d.url}/static/uPlot.iife.min.js`, { headers: { 'if-none-match': uplot.headers.get('etag')! } });
      expect(again.status).to.equal(304);
      expect((await fetch(`${d.url}/static/nope.js`)).status).to.equal(404);
      expect((await fetch(`${d.url}/static/..%2Fpackage.json`)).status).to.equal(404);
      expect((await getJson(`${d.url}/api/nothing`)).body).to.have.nested.property('error.code', 'NOT_FOUND');
    } finally {
      await d.stop();
    }
  });

  it('healthz is 503 until attached and after shutdown, 200 while running', async () => {
    const dash = await DashboardServer.listen({ host: '127.0.0.1', port: 0, token: '' });
    try {
      expect((await getJson(`${dash.url}/healthz`)).body).to.deep.equal({ status: 'starting' });
      expect((await getJson(`${dash.url}/api/status`)).status).to.equal(503);
    } finally {
      await dash.close();
    }
    const d = await startDashboard();
    expect((await getJson(`${d.url}/healthz`)).body).to.deep.include({ status: 'ok' });
    await d.auto.shutdown('test');
    expect((await getJson(`${d.url}/healthz`)).status).to.equal(503);
    expect((await postJson(`${d.url}/api/scale`, { n: 1 })).status).to.equal(503);
    await d.dash.close();
  });

  it('a taken port falls back to a free one, as Dask does, and says so', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dash = await DashboardServer.listen({ host: '127.0.0.1', port, token: '' });
      expect(dash.portTaken).to.equal(true);
      expect(dash.port).to.not.equal(port);
      await dash.close();
    } finally {
      blocker.close();
    }
  });

  it('an address that is not this machine is a CONFIG_INVALID naming dashboard.host', async () => {
    const e = await DashboardServer.listen({ host: '192.0.2.1', port: 0, token: 't' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).to.include({ code: 'CONFIG_INVALID', key: 'dashboard.host' });
    expect((e as Error).message).to.contain('192.0.2.1 is not an address of this machine');
  });
});
