import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SchedulerStateStore, decideTick } from '@ebbtide/core';
import { DaskTargetHeuristic, DaskWorkersToClose, NoneWorkerKey } from '@ebbtide/plugin-dask';
import { type Figure, figure, median, percentile } from './report.js';

const SCALES: Array<[number, number]> = [
  [1_000, 100_000],
  [5_000, 500_000],
  [10_000, 1_000_000],
];
const LIMIT = 8 * 2 ** 30;

/** A store holding W one-thread workers and T processing tasks (busy: on all; half_idle: on the first half). */
function buildStore(W: number, T: number, scenario: 'busy' | 'half_idle'): SchedulerStateStore {
  const store = new SchedulerStateStore();
  for (let i = 0; i < W; i++) {
    store.apply({
      type: 'worker.added',
      worker: { name: `w-${i}`, address: `tcp://10.0.${i >> 8}.${i & 255}:9000`, host: `10.0.${i >> 8}.${i & 255}`, nthreads: 1, memoryLimit: LIMIT, nbytes: (i * 7919) % (64 * 2 ** 20), status: 'running', labels: {} },
    });
  }
  const on = scenario === 'busy' ? W : W >> 1;
  const duration = scenario === 'busy' ? 0.5 : 0.001;
  store.apply({ type: 'task.transition', key: 'seed', prefix: 'work', to: 'queued' });
  store.apply({ type: 'task.transition', key: 'seed', to: 'memory', duration });
  for (let i = 0; i < T; i++) {
    const key = `work-${i}`;
    store.apply({ type: 'task.transition', key, prefix: 'work', to: 'queued' });
    store.apply({ type: 'task.transition', key, to: 'processing', worker: `w-${i % on}` });
  }
  return store;
}

/** Median and p99 (ms) of one full tick: snapshot from the store, target, workers to close, hysteresis. */
function timeTicks(store: SchedulerStateStore, reps: number): { median: number; p99: number; target: number } {
  const heuristic = new DaskTargetHeuristic();
  const strategy = new DaskWorkersToClose({});
  const workerKey = new NoneWorkerKey();
  let closeCounts: Record<string, number> = {};
  const times: number[] = [];
  let target = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const snapshot = store.snapshot(r);
    const d = decideTick({ snapshot, heuristic, strategy, workerKey, minimum: 0, maximum: Infinity, waitCount: 3, closeCounts });
    closeCounts = d.closeCounts;
    times.push(performance.now() - t0);
    target = d.target;
  }
  return { median: median(times), p99: percentile(times, 99), target };
}

interface DaskTiming {
  workers: number;
  tasks: number;
  scenario: string;
  median_ms: number;
  p99_ms: number;
  target: number;
}

function daskAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import distributed'], { stdio: 'ignore' }).status === 0;
}

/** Dask's own timings for the same shapes, from our script, one JSON line per scenario. */
async function daskTimings(scales: Array<[number, number]>): Promise<DaskTiming[]> {
  const script = fileURLToPath(new URL('../../bench/python/dask_decisions.py', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', [script, ...scales.map(([w, t]) => `${w}:${t}`)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () =>
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as DaskTiming),
      ),
    );
  });
}

export async function decisionBenches(log: (f: Figure) => void): Promise<void> {
  const dask = daskAvailable() ? await daskTimings(SCALES) : [];
  for (const [W, T] of SCALES) {
    for (const scenario of ['busy', 'half_idle'] as const) {
      const store = buildStore(W, T, scenario);
      const reps = T <= 100_000 ? 101 : 31;
      timeTicks(store, 3); // warm up
      const t = timeTicks(store, reps);
      const base = dask.find((d) => d.workers === W && d.tasks === T && d.scenario === scenario);
      const label = `decision tick ${W.toLocaleString('en')} workers / ${T.toLocaleString('en')} tasks, ${scenario === 'busy' ? 'scale-up path' : 'scale-down path'}`;
      if (base && base.target !== t.target) {
        log(figure(`${label}: TARGET MISMATCH with Dask`, t.target, 'workers', { value: base.target }));
      }
      log(figure(`${label}: median`, t.median, 'ms', base ? { value: base.median_ms, note: "baseline: Dask 2022.12's adaptive_target + workers_to_close" } : undefined));
      log(figure(`${label}: p99`, t.p99, 'ms', base ? { value: base.p99_ms } : undefined));
    }
  }
}

/** Task transition events per second on one core, and heap per 1M tracked tasks. */
export async function storeBenches(log: (f: Figure) => void): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const N = 1_000_000;
  const store = new SchedulerStateStore();
  for (let i = 0; i < 1000; i++) {
    store.apply({ type: 'worker.added', worker: { name: `w-${i}`, address: `a${i}`, host: 'h', nthreads: 4, memoryLimit: LIMIT, nbytes: 0, status: 'running', labels: {} } });
  }
  const keys = Array.from({ length: N }, (_, i) => `t-${i}`);
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) store.apply({ type: 'task.transition', key: keys[i]!, prefix: `p${i % 20}`, to: 'queued' });
  for (let i = 0; i < N; i++) store.apply({ type: 'task.transition', key: keys[i]!, to: 'processing', worker: `w-${i % 1000}` });
  const elapsed = (performance.now() - t0) / 1000;
  gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  log(figure('state store: task transition events ingested (one core)', (2 * N) / elapsed, 'events/s'));
  log(figure('state store: heap per 1M tracked tasks', (heap1 - heap0) / 2 ** 20, 'MiB', undefined, gc ? undefined : 'run with --expose-gc for a clean figure'));
  const t1 = performance.now();
  for (let i = 0; i < N; i++) store.apply({ type: 'task.transition', key: keys[i]!, to: 'memory', duration: 0.01 });
  log(figure('state store: completions ingested (one core)', N / ((performance.now() - t1) / 1000), 'events/s'));
}
