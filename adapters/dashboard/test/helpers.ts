import { request } from 'node:http';
import { Autoscaler, type HeuristicResult, definePlugin } from '@ebbtide/core';
import { FakeBackend, FakeScheduler, createTestKernel } from '@ebbtide/core/testing';
import dashboardPlugin from '../src/index.js';
import { DashboardServer, type DashboardServerOptions } from '../src/DashboardServer.js';
import { RecentLog } from '../src/RecentLog.js';

/** A heuristic whose target the test sets. */
export const wanted = { value: 0 };
const scriptedPlugin = definePlugin({
  name: 'scripted',
  register(r) {
    r.heuristic('scripted', () => ({ target: (): HeuristicResult => ({ target: wanted.value, explanation: { rule: wanted.value ? 'scale-up' : 'steady' } }) }));
    // Closes the newest workers first, down to the target.
    r.workersToClose('newest', () => ({ select: (s, q) => s.workers.slice(q.target ?? 0).map((w) => w.name).reverse() }));
  },
});

/**
 * A running autoscaler on the in-memory scheduler and backend, with a dashboard server on a
 * free loopback port. The loop has no timer (adaptive.interval 0): the test ticks it.
 */
export async function startDashboard(server: Partial<DashboardServerOptions> = {}, config: Record<string, unknown> = {}) {
  wanted.value = 0;
  const scheduler = new FakeScheduler();
  const backend = new FakeBackend();
  const kernel = await createTestKernel({
    plugins: [dashboardPlugin, scriptedPlugin],
    config: { heuristic: 'scripted', workersToClose: 'newest', cluster: { name: 'd' }, adaptive: { interval: 0, waitCount: 1 }, ...config },
    instances: { scheduler, backend },
  });
  const recentLog = new RecentLog();
  recentLog.push({ level: 'info', message: 'hello from the test', fields: { event: 'test.hello' }, time: '2026-01-01T00:00:00.000Z' });
  const dash = await DashboardServer.listen({ host: '127.0.0.1', port: 0, token: '', recentLog, ...server });
  const auto = await Autoscaler.start(kernel, { scheduler, backend });
  dash.attach(auto);
  /** Connects every worker the backend started to the fake scheduler. */
  const arrive = (nbytes = 0) => {
    for (const name of backend.active) {
      if (!auto.store.workerNames().includes(name)) {
        scheduler.emit({ type: 'worker.added', worker: { name, address: `tcp://127.0.0.1/${name}`, host: '127.0.0.1', nthreads: 1, memoryLimit: 1 << 20, nbytes, status: 'running', labels: {} } });
      }
    }
  };
  const stop = async () => {
    await auto.shutdown('test');
    await dash.close();
  };
  return { auto, dash, scheduler, backend, arrive, stop, url: dash.url };
}

/** A raw HTTP GET with any headers (fetch will not send a Host header of our choosing). */
export function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads server-sent events from `url` until `until` says stop; returns the events seen. */
export async function readEvents(url: string, until: (events: Array<{ event: string; id?: string; data: string }>) => boolean, init: RequestInit = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal });
  const events: Array<{ event: string; id?: string; data: string }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const ev: { event: string; id?: string; data: string } = { event: 'message', data: '' };
        let any = false;
        for (const line of block.split('\n')) {
          const m = /^(event|id|data): ?(.*)$/.exec(line);
          if (!m) continue;
          any = true;
          if (m[1] === 'event') ev.event = m[2]!;
          else if (m[1] === 'id') ev.id = m[2]!;
          else ev.data += m[2]!;
        }
        if (any) events.push(ev);
      }
    }
  } finally {
    controller.abort();
  }
  return { status: res.status, type: res.headers.get('content-type'), events };
}
