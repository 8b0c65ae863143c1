import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { Autoscaler, Kernel, silentLogger } from '@ebbtide/core';
import { builtinDefaults, builtinPlugins } from '@ebbtide/cli';
import { Client, EmbeddedScheduler, builtinTask, workerBin } from '@ebbtide/scheduler-embedded';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { killAll, until } from '../support/processes.js';
import { type Figure, figure, median } from './report.js';

/** Runs of each reaction figure (and of its baseline), interleaved. */
const REACTION_RUNS = 3;

async function kernel(flags: Record<string, string>) {
  return Kernel.create({ builtins: builtinPlugins(),
      defaults: builtinDefaults(), sources: { env: {}, flags } });
}

/** The early tick's setting in the reaction figure (`adaptive.earlyTick`, off by default). */
const EARLY_TICK = '100ms';

/**
 * Seconds from 64 long tasks arriving on an empty cluster to 16 connected workers, the loop
 * ticking every second (Dask's interval), with or without the early tick.
 */
async function demandTo16(earlyTick?: string): Promise<number> {
  const auto = await Autoscaler.start(
    await kernel({
      'adaptive.maximum': '16',
      'scheduler.defaultTaskDurations': '{"nap":"10s"}',
      'log.level': 'silent',
      ...(earlyTick ? { 'adaptive.earlyTick': earlyTick } : {}),
    }),
  );
  const client = await Client.connect(auto.scheduler.address!);
  try {
    const t0 = performance.now();
    for (let i = 0; i < 64; i++) await client.submit(builtinTask('sleep'), [60_000], { prefix: 'nap' });
    await until(() => auto.store.counts().workers >= 16, 120_000, '16 workers');
    return (performance.now() - t0) / 1000;
  } finally {
    await client.close().catch(() => undefined);
    await auto.shutdown('bench');
  }
}

/** Baseline: seconds to spawn 16 `ebbtide-worker`s directly and see them all registered. */
async function direct16(): Promise<number> {
  const scheduler = new EmbeddedScheduler({ host: '127.0.0.1', port: 0 }, { rxScheduler: asyncScheduler, logger: silentLogger });
  const address = await scheduler.listen();
  let connected = 0;
  const sub = scheduler.events$.subscribe((e) => {
    if (e.type === 'worker.added') connected++;
  });
  const pids: number[] = [];
  try {
    const t0 = performance.now();
    for (let i = 0; i < 16; i++) {
      const c = spawn(process.execPath, [workerBin, '--scheduler', address, '--name', `direct-${i}`, '--nthreads', '1'], { stdio: 'ignore', detached: true });
      pids.push(c.pid!);
    }
    await until(() => connected >= 16, 120_000, '16 direct workers');
    return (performance.now() - t0) / 1000;
  } finally {
    sub.unsubscribe();
    killAll(pids.map((p) => -p));
    await scheduler.close();
  }
}

/** No-op tasks per second through the embedded scheduler with 4 single-thread workers. */
async function embeddedNoopRate(n: number): Promise<number> {
  const auto = await Autoscaler.start(await kernel({ 'adaptive.minimum': '4', 'adaptive.maximum': '4', 'log.level': 'silent' }));
  const client = await Client.connect(auto.scheduler.address!);
  try {
    await until(() => auto.store.counts().workers >= 4, 60_000, '4 workers');
    const t0 = performance.now();
    const keys = await Promise.all(Array.from({ length: n }, () => client.submit(builtinTask('noop'), [])));
    await client.gather(keys);
    const rate = n / ((performance.now() - t0) / 1000);
    await client.release(keys);
    return rate;
  } finally {
    await client.close().catch(() => undefined);
    await auto.shutdown('bench');
  }
}

const DASK_NOOP = `
import time, sys
from distributed import Client, LocalCluster
def noop(i):
    return None
if __name__ == "__main__":
    n = int(sys.argv[1])
    with LocalCluster(n_workers=4, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster) as client:
        client.gather(client.map(noop, range(50), pure=False))
        t0 = time.perf_counter()
        futs = client.map(noop, range(n), pure=False)
        client.gather(futs)
        print(n / (time.perf_counter() - t0))
`;

/** Baseline: Dask's own no-op tasks/s with 4 single-thread worker processes, if Debian's Dask is installed. */
function daskNoopRate(n: number): number | undefined {
  if (spawnSync('/usr/bin/python3', ['-c', 'import distributed'], { stdio: 'ignore' }).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-bench-'));
  try {
    const script = join(dir, 'dask_noop.py');
    writeFileSync(script, DASK_NOOP);
    const r = spawnSync('/usr/bin/python3', [script, String(n)], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
    const v = Number(r.stdout.trim().split('\n').at(-1));
    return Number.isFinite(v) ? v : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The demo's worker-seconds against a static cluster of its maximum size over the same wall time. */
function demoSaving(duration: number): { adaptive: number; static: number } {
  const r = spawnSync(process.execPath, [EBBTIDE_BIN, 'demo', '--duration', String(duration), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: (duration + 90) * 1000 });
  const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { workerSeconds: number; staticWorkerSeconds: number };
  return { adaptive: s.workerSeconds, static: s.staticWorkerSeconds };
}

/** Demand to 16 connected local workers, with and without the early tick, against spawning 16 directly. */
export async function reactionBenches(log: (f: Figure) => void): Promise<void> {
  // Interleaved runs, medians: the machine's cores are shared, and a run's worker start-up
  // (16 Node processes) is most of each figure.
  const runs = { direct: [] as number[], early: [] as number[], interval: [] as number[] };
  for (let i = 0; i < REACTION_RUNS; i++) {
    runs.direct.push(await direct16());
    runs.early.push(await demandTo16(EARLY_TICK));
    runs.interval.push(await demandTo16());
  }
  const direct = median(runs.direct);
  log(
    figure('embedded: demand to 16 connected workers', median(runs.early), 's', {
      value: direct,
      note: `adaptive.earlyTick ${EARLY_TICK}; baseline: spawning 16 workers directly; medians of ${REACTION_RUNS} interleaved runs`,
    }),
  );
  log(
    figure('embedded: demand to 16 connected workers, no early tick', median(runs.interval), 's', {
      value: direct,
      note: `adaptive.earlyTick off (the default): the first tick after the burst; baseline: spawning 16 workers directly; medians of ${REACTION_RUNS} runs`,
    }),
  );
}

export async function embeddedBenches(log: (f: Figure) => void): Promise<void> {
  await reactionBenches(log);

  const n = 3000;
  const ours = await embeddedNoopRate(n);
  const dask = daskNoopRate(n);
  log(figure(`embedded: no-op tasks through the scheduler (4 workers, ${n} tasks)`, ours, 'tasks/s', dask ? { value: dask, note: "baseline: Dask 2022.12's LocalCluster, same shape" } : undefined));

  const demo = demoSaving(60);
  log(figure('demo: worker-seconds used (60 s demo)', demo.adaptive, 'worker-s', { value: demo.static, note: 'baseline: a static cluster of maximum workers; ratio < 1 is the saving' }));
}
