import 'reflect-metadata';
import { expect } from 'chai';
import type { ClusterStatus } from '../src/clusterStatus.js';
import { startDashboard } from './helpers.js';

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const status = async (url: string) => (await (await fetch(`${url}/api/status`)).json()) as ClusterStatus;

describe('DashboardServer: adapt settings (Dask adapt(**kw)) and POST /api/shutdown', function () {
  this.timeout(20_000);

  it('POST /api/adapt takes interval, waitCount and targetDuration (seconds or "500ms"); /api/status shows them; bad ones are 400 and change nothing', async () => {
    const d = await startDashboard({}, { adaptive: { interval: '1s', waitCount: 3 } });
    try {
      const r = await post(`${d.url}/api/adapt`, { minimum: 1, maximum: 4, interval: '500ms', waitCount: 2, targetDuration: 12 });
      expect(r).to.deep.equal({ status: 200, body: { mode: 'adaptive', minimum: 1, maximum: 4 } });
      expect((await status(d.url)).adaptive).to.deep.equal({ interval: 0.5, minimum: 1, maximum: 4, waitCount: 2, targetDuration: 12, historyLength: 1000 });
      expect(d.auto.adaptive.targetDuration).to.equal(12);
      for (const bad of [{ interval: 0 }, { interval: 'soon' }, { targetDuration: -1 }, { waitCount: 'three' }, { waitCount: 1.5 }]) {
        const res = await post(`${d.url}/api/adapt`, { minimum: 0, ...bad });
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect((res.body.error as { code: string }).code).to.equal('INPUT_INVALID');
      }
      expect((await post(`${d.url}/api/adapt`, { interval: 'soon' })).body).to.deep.equal({
        error: { code: 'INPUT_INVALID', message: 'interval: expected a duration > 0 (seconds, or such as "500ms", "2s"), got "soon"' },
      });
      expect((await status(d.url)).adaptive).to.deep.include({ interval: 0.5, minimum: 1, waitCount: 2, targetDuration: 12 });
    } finally {
      await d.stop();
    }
  });

  it('POST /api/shutdown calls the owner once and answers 202 with shutdown.workers; without an owner hook it is 501', async () => {
    const reasons: string[] = [];
    const d = await startDashboard({ onShutdown: (reason) => reasons.push(reason) }, { shutdown: { workers: 'keep' } });
    try {
      expect(await post(`${d.url}/api/shutdown`, {})).to.deep.equal({ status: 202, body: { status: 'shutting-down', workers: 'keep' } });
      expect(await post(`${d.url}/api/shutdown`, {})).to.deep.equal({ status: 202, body: { status: 'shutting-down', workers: 'keep' } });
      expect(reasons).to.deep.equal(['POST /api/shutdown']);
      const text = await fetch(`${d.url}/api/shutdown`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
      expect(text.status).to.equal(415);
    } finally {
      await d.stop();
    }
    const demo = await startDashboard();
    try {
      const r = await post(`${demo.url}/api/shutdown`, {});
      expect(r.status).to.equal(501);
      expect((r.body.error as { code: string }).code).to.equal('NOT_IMPLEMENTED');
    } finally {
      await demo.stop();
    }
  });
});
