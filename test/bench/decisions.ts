import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { SchedulerStateStore, type WorkerInfo, decideTick } from '@ebbtide/core';
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

/**
 * Median and p99 (ms) of one full tick: snapshot from the store, target, workers to close,
 * hysteresis. `between`, when given, changes the store before each tick (not timed).
 */
function timeTicks(store: SchedulerStateStore, reps: number, between?: (r: number) => void): { median: number; p99: number; target: number } {
  // One heuristic, strategy and worker key per store, as the loop keeps them for its lifetime.
  const { heuristic, strategy, workerKey } = (plugins ??= { heuristic: new DaskTargetHeuristic(), strategy: new DaskWorkersToClose({}), workerKey: new NoneWorkerKey() });
  let closeCounts: Record<string, number> = {};
  const times: number[] = [];
  let target = 0;
  for (let r = 0; r < reps; r++) {
    between?.(r);
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

/**
 * Between two ticks, 1 % of the workers change: half report new bytes held (which moves them in
 * the closing order), half get a task that moves from another busy worker (the idle ones stay
 * idle, so the scenario keeps its shape over a thousand ticks).
 */
function churn(store: SchedulerStateStore, W: number, T: number, busyWorkers: number): (r: number) => void {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const k = Math.max(2, W / 100) >> 1;
  return () => {
    for (let i = 0; i < k; i++) store.apply({ type: 'worker.updated', name: `w-${rand(W)}`, nbytes: rand(64 * 2 ** 20) });
    for (let i = 0; i < k; i++) store.apply({ type: 'task.transition', key: `work-${rand(T)}`, to: 'processing', worker: `w-${rand(busyWorkers)}` });
  };
}

/** Runs `f` and reports the garbage collections V8 made meanwhile (count, longest pause in ms). */
async function collections<T>(f: () => T): Promise<{ result: T; count: number; longest: number }> {
  let count = 0;
  let longest = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      count++;
      longest = Math.max(longest, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const result = f();
  // GC entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  return { result, count, longest };
}

let plugins: { heuristic: DaskTargetHeuristic; strategy: DaskWorkersToClose; workerKey: NoneWorkerKey } | undefined;

/** Ticks are microseconds now: enough of them that a p99 is a p99 and not the few slowest ticks. */
const REPS = 3001;
/** Ticks with changes between them cost milliseconds. */
const CHURN_REPS = 1001;
/**
 * Ticks run before timing: enough for V8 to finish optimizing the tick's code (at microseconds a
 * tick, 50 were not: the first scale's p99 measured the compiler's work, not the decision's).
 */
const WARM_UP = 1000;
/** Ticks with changes cost milliseconds: fewer warm them up. */
const CHURN_WARM_UP = 50;

export async function decisionBenches(log: (f: Figure) => void): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  log(figure('machine: available cores', availableParallelism(), 'cores'));
  const dask = daskAvailable() ? await daskTimings(SCALES) : [];
  for (const [W, T] of SCALES) {
    for (const scenario of ['busy', 'half_idle'] as const) {
      const store = buildStore(W, T, scenario);
      plugins = undefined;
      const reps = REPS;
      timeTicks(store, WARM_UP);
      // What building the store left for the collector is not a tick's pause.
      gc?.();
      timeTicks(store, 10);
      const tGc = await collections(() => timeTicks(store, reps));
      const t = tGc.result;
      const base = dask.find((d) => d.workers === W && d.tasks === T && d.scenario === scenario);
      const label = `decision tick ${W.toLocaleString('en')} workers / ${T.toLocaleString('en')} tasks, ${scenario === 'busy' ? 'scale-up path' : 'scale-down path'}`;
      if (base && base.target !== t.target) {
        log(figure(`${label}: TARGET MISMATCH with Dask`, t.target, 'workers', { value: base.target }));
      }
      log(figure(`${label}: median`, t.median, 'ms', base ? { value: base.median_ms, note: "baseline: Dask 2022.12's adaptive_target + workers_to_close" } : undefined));
      log(figure(`${label}: p99`, t.p99, 'ms', base ? { value: base.p99_ms } : undefined));
      // What the collector paused the ticks for: a p99 above it is the machine's scheduling, not ours.
      log(figure(`${label}: garbage collections during ${reps} ticks`, tGc.count, 'collections'));
      log(figure(`${label}: longest garbage-collection pause during the ticks`, tGc.longest, 'ms'));
      // The same with 1 % of the workers changing between ticks (Dask's own tick costs the same either way).
      const moving = churn(store, W, T, scenario === 'busy' ? W : W >> 1);
      timeTicks(store, CHURN_WARM_UP, moving);
      gc?.();
      timeTicks(store, 10, moving);
      const cGc = await collections(() => timeTicks(store, CHURN_REPS, moving));
      const c = cGc.result;
      log(figure(`${label}, 1% of workers changing per tick: median`, c.median, 'ms', base ? { value: base.median_ms } : undefined));
      log(figure(`${label}, 1% of workers changing per tick: p99`, c.p99, 'ms', base ? { value: base.p99_ms } : undefined));
      log(figure(`${label}, 1% of workers changing per tick: garbage collections during ${CHURN_REPS} ticks`, cGc.count, 'collections', undefined, 'the changes between ticks allocate too'));
      log(figure(`${label}, 1% of workers changing per tick: longest garbage-collection pause`, cGc.longest, 'ms'));
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
  // Typed arrays live outside the V8 heap: counted too, so compact storage is not a hidden cost.
  const used = () => {
    const m = process.memoryUsage();
    return { heap: m.heapUsed, buffers: m.arrayBuffers };
  };
  const mem0 = used();
  const heap0 = mem0.heap + mem0.buffers;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) store.apply({ type: 'task.transition', key: keys[i]!, prefix: `p${i % 20}`, to: 'queued' });
  for (let i = 0; i < N; i++) store.apply({ type: 'task.transition', key: keys[i]!, to: 'processing', worker: `w-${i % 1000}` });
  const elapsed = (performance.now() - t0) / 1000;
  gc?.();
  const mem1 = used();
  const heap1 = mem1.heap + mem1.buffers;
  log(figure('state store: task transition events ingested (one core)', (2 * N) / elapsed, 'events/s'));
  log(figure('state store: heap per 1M tracked tasks', (heap1 - heap0) / 2 ** 20, 'MiB', undefined, gc ? 'V8 heap + array buffers' : 'run with --expose-gc for a clean figure'));
  log(figure('state store: array buffers per 1M tracked tasks', (mem1.buffers - mem0.buffers) / 2 ** 20, 'MiB', undefined, 'included in the heap figure'));
  const t1 = performance.now();
  for (let i = 0; i < N; i++) store.apply({ type: 'task.transition', key: keys[i]!, to: 'memory', duration: 0.01 });
  log(figure('state store: completions ingested (one core)', N / ((performance.now() - t1) / 1000), 'events/s'));
  viewBenches(log);
}

/** What a decision reads from a 10,000-worker store besides the strategy's walk. */
function viewBenches(log: (f: Figure) => void): void {
  const W = 10_000;
  const store = buildStore(W, 0, 'busy');
  const key = new NoneWorkerKey();
  const reps = 2001;
  const unchanged: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    store.snapshot(r).closingOrder!(key);
    unchanged.push(performance.now() - t0);
  }
  log(figure('state store: snapshot + closing order of an unchanged 10,000-worker state: median', median(unchanged), 'ms'));
  // Re-placing changed workers in the order: 100 workers' bytes change, then the order is asked for.
  const perWorker: number[] = [];
  let seed = 1;
  for (let r = 0; r < 401; r++) {
    for (let i = 0; i < 100; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      store.apply({ type: 'worker.updated', name: `w-${seed % W}`, nbytes: seed % 2 ** 26 });
    }
    const t0 = performance.now();
    store.closingOrder(key);
    // The first 200 rounds warm the code up.
    if (r >= 200) perWorker.push(((performance.now() - t0) * 1000) / 100);
  }
  log(figure('state store: closing order update per changed worker (10,000 workers): median', median(perWorker), 'µs'));
  pollBenches(log);
}

/**
 * A polling adapter (Dask's) hands the store the whole worker list each poll. Applying it costs
 * O(W); the decision after it should cost what changed (1 % of the workers here), not a rebuild.
 */
function pollBenches(log: (f: Figure) => void): void {
  const W = 10_000;
  const store = buildStore(W, 0, 'busy');
  const list: WorkerInfo[] = store.snapshot(0).workers.map((w, i) => ({ ...w, processing: i % 2 ? ({} as Record<string, number>) : { work: 1 } }));
  const heuristic = new DaskTargetHeuristic();
  const strategy = new DaskWorkersToClose({});
  const workerKey = new NoneWorkerKey();
  const prefixes = { work: { durationAverage: 0.001, maxExecTime: -1, queued: 0, unrunnable: 0 } };
  let seed = 3;
  let closeCounts: Record<string, number> = {};
  const apply: number[] = [];
  const decide: number[] = [];
  for (let r = 0; r < 301; r++) {
    for (let i = 0; i < W / 100; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const at = seed % W;
      list[at] = { ...list[at]!, nbytes: seed % 2 ** 26 };
    }
    const t0 = performance.now();
    store.apply({ type: 'snapshot', snapshot: { time: r, workers: list, prefixes } });
    const t1 = performance.now();
    const d = decideTick({ snapshot: store.snapshot(r), heuristic, strategy, workerKey, minimum: 0, maximum: Infinity, waitCount: 3, closeCounts });
    const t2 = performance.now();
    closeCounts = d.closeCounts;
    if (r >= 50) {
      apply.push(t1 - t0);
      decide.push(t2 - t1);
    }
  }
  log(figure('state store: applying a 10,000-worker poll, 1% of workers changed: median', median(apply), 'ms'));
  log(figure('decision tick after that poll, scale-down path: median', median(decide), 'ms'));
  log(figure('decision tick after that poll, scale-down path: p99', percentile(decide, 99), 'ms'));
}
