import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { Autoscaler } from '@ebbtide/core';
import { FakeBackend, FakeScheduler, createTestKernel } from '@ebbtide/core/testing';
import dashboardPlugin, { DashboardServer } from '@ebbtide/dashboard';
import daskPlugin from '@ebbtide/plugin-dask';
import { type Figure, figure, median, percentile } from './report.js';

const W = 1_000;
const T = 100_000;
const LIMIT = 8 * 2 ** 30;
const ROUNDS = 12;
const TICKS_PER_ROUND = 20;
/**
 * Pause between ticks. In production ticks are `adaptive.interval` (1 s) apart and a page's
 * stream is written between them; run back to back, each tick would also pay for the previous
 * write's aftermath (socket wake-ups, colder caches), which no real tick does.
 */
const GAP_MS = 5;

/**
 * A running autoscaler (Dask's rules, the real loop with its enriched records, history and
 * worker view) over an in-memory scheduler holding W workers and T tasks, all adopted, so every
 * tick does the whole decision and changes nothing. `halfIdle`: half the workers are idle, so
 * every tick also proposes 500 workers for closing (and records why each one), without ever
 * closing one (waitCount is out of reach).
 */
async function cluster(halfIdle: boolean) {
  const scheduler = new FakeScheduler();
  const backend = new FakeBackend();
  const names = Array.from({ length: W }, (_, i) => `b-${i}`);
  backend.existing = names.map((name) => ({ name, phase: 'running' }));
  const kernel = await createTestKernel({
    plugins: [daskPlugin, dashboardPlugin],
    config: {
      heuristic: 'dask',
      workersToClose: 'dask',
      workerKey: 'none',
      cluster: { name: 'b', memoryLimit: LIMIT },
      adaptive: { interval: 0, maximum: W, waitCount: 1_000_000 },
    },
    instances: { scheduler, backend },
  });
  const auto = await Autoscaler.start(kernel, { scheduler, backend });
  for (const [i, name] of names.entries()) {
    scheduler.emit({ type: 'worker.added', worker: { name, address: `tcp://10.0.${i >> 8}.${i & 255}:9000`, host: `10.0.${i >> 8}.${i & 255}`, nthreads: 1, memoryLimit: LIMIT, nbytes: (i * 7919) % (64 * 2 ** 20), status: 'running', labels: {} } });
  }
  const on = halfIdle ? W >> 1 : W;
  scheduler.emit({ type: 'task.transition', key: 'seed', prefix: 'work', to: 'queued' });
  scheduler.emit({ type: 'task.transition', key: 'seed', to: 'memory', duration: halfIdle ? 0.001 : 0.5 });
  for (let i = 0; i < T; i++) {
    scheduler.emit({ type: 'task.transition', key: `work-${i}`, prefix: 'work', to: 'queued' });
    scheduler.emit({ type: 'task.transition', key: `work-${i}`, to: 'processing', worker: `b-${i % on}` });
  }
  return auto;
}

/** A page's event stream in another process (as a browser is): it reads every event and drops it. */
function streamingPage(url: string): ChildProcess {
  const script = `
    const http = require('node:http');
    http.get(process.argv[1], (res) => { res.on('data', () => {}); });
  `;
  return spawn(process.execPath, ['-e', script, `${url}/api/decisions/stream`], { stdio: 'ignore' });
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Ticks `reps` times, `GAP_MS` apart; each tick is timed as the loop sees it (decision, records,
 * history, subscribers). The CPU time of the whole block is measured too: the ticks plus the
 * event-loop turns after each, where a connected page's stream is serialised and written.
 */
async function timeTicks(auto: Autoscaler, reps: number): Promise<{ tick: number[]; cpu: number }> {
  const tick: number[] = [];
  const c0 = process.cpuUsage();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const record = await auto.adaptive.tick();
    tick.push(performance.now() - t0);
    await turn();
    await turn();
    await new Promise((r) => setTimeout(r, GAP_MS));
    if (record.recommendation.status !== 'same') throw new Error(`bench: expected a steady cluster, got ${record.recommendation.status}`);
  }
  const c = process.cpuUsage(c0);
  return { tick, cpu: (c.user + c.system) / 1000 };
}

/**
 * The cost of a connected page: decision-tick figures with and without a page streaming
 * decisions (server-sent events from the dashboard server) in the same run, on the same
 * cluster. Rounds alternate without and with, so drift hits both alike.
 */
export async function dashboardBenches(log: (f: Figure) => void): Promise<void> {
  for (const halfIdle of [false, true]) {
    const auto = await cluster(halfIdle);
    const server = await DashboardServer.listen({ host: '127.0.0.1', port: 0, token: '' });
    server.attach(auto);
    const without = { tick: [] as number[], cpu: 0, n: 0 };
    const withPage = { tick: [] as number[], cpu: 0, n: 0 };
    const add = (into: typeof without, r: { tick: number[]; cpu: number }) => {
      into.tick.push(...r.tick);
      into.cpu += r.cpu;
      into.n += r.tick.length;
    };
    let page: ChildProcess | undefined;
    try {
      await timeTicks(auto, 10); // warm up
      // Short alternating rounds: the machine's other load falls on both alike.
      for (let round = 0; round < ROUNDS; round++) {
        add(without, await timeTicks(auto, TICKS_PER_ROUND));
        page = streamingPage(server.url);
        while (server.streamClients === 0) await new Promise((r) => setTimeout(r, 5));
        add(withPage, await timeTicks(auto, TICKS_PER_ROUND));
        const p = page;
        const gone = new Promise((r) => p.once('exit', r));
        p.kill();
        await gone;
        while (server.streamClients > 0) await new Promise((r) => setTimeout(r, 5));
        page = undefined;
      }
    } finally {
      page?.kill();
      await auto.shutdown('bench');
      await server.close();
    }
    const label = `dashboard: tick ${W.toLocaleString('en')} workers / ${T.toLocaleString('en')} tasks, ${halfIdle ? 'half idle (500 proposed, each explained)' : 'busy, steady'}`;
    const note = `baseline: the same ticks with no page connected, same run (ticks ${GAP_MS} ms apart)`;
    log(figure(`${label}, page streaming: tick median`, median(withPage.tick), 'ms', { value: median(without.tick), note }));
    log(figure(`${label}, page streaming: tick p99`, percentile(withPage.tick, 99), 'ms', { value: percentile(without.tick, 99) }));
    log(
      figure(`${label}, page streaming: CPU per tick, stream included`, withPage.cpu / withPage.n, 'ms', {
        value: without.cpu / without.n,
        note: "this process's CPU time per tick, the turn where the stream is serialised and written included",
      }),
    );
  }
}
