import { type WriteStream, closeSync, createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Autoscaler, type DecisionRecord, type Kernel, poolSettings, record } from '@ebbtide/core';
import { Client } from '@ebbtide/scheduler-embedded';
import type { RecentLog } from '@ebbtide/dashboard';
import type { CliIo } from '../io.js';
import { dashboardLine, listenDashboard, openRecording } from './up.js';
import { type PoolSummary, PoolUsage } from '../demo/PoolUsage.js';
import { WorkerSeconds } from '../demo/WorkerSeconds.js';
import { runWorkload } from '../demo/runWorkload.js';
import { demoWorkload } from '../demo/workload.js';

/** The config `ebbtide demo` presets (a file, env or flags still override it). */
export function demoPreset(): Record<string, unknown> {
  return {
    scheduler: { type: 'embedded' },
    backend: { type: 'local' },
    adaptive: { minimum: 0, maximum: Math.max(4, 2 * availableParallelism()) },
    // Without a memory limit Dask never closes an idle worker while any data is stored (§3.7).
    cluster: { memoryLimit: '256MB' },
    // The live line tells the story; per-worker info logs would interleave with it.
    log: { level: 'warn' },
  };
}

export interface DemoSummary {
  tasksSubmitted: number;
  tasksCompleted: number;
  resultsChecked: number;
  resultsLost: number;
  peakWorkers: number;
  finalWorkers: number;
  minimum: number;
  maximum: number;
  workerSeconds: number;
  staticWorkerSeconds: number;
  scaleUps: number;
  scaleDowns: number;
  /** With pools: each pool's worker-seconds, peak and cost (`cost` × worker-hours). */
  pools?: Record<string, PoolSummary>;
  /** With pools: the pools' costs together. */
  cost?: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * `ebbtide demo`: the embedded scheduler, real local worker processes and Dask's defaults under a
 * built-in bursty workload; a live line per tick; a summary against a static cluster.
 */
export async function demoCommand(kernel: Kernel, io: CliIo, opts: { duration: number; json: boolean; recentLog?: RecentLog; record?: string }): Promise<number> {
  const { minimum, maximum } = kernel.config.adaptive;
  const { pools } = poolSettings(kernel.config);
  const rx = kernel.rxScheduler;
  const t0 = rx.now() / 1000;
  const now = () => rx.now() / 1000 - t0;
  const live = (line: string) => (io.isTTY && !opts.json ? io.stderr(`\r\x1b[2K${line}`) : io.stderr(line + '\n'));

  const fd = opts.record ? openRecording(opts.record) : undefined;
  let server: Awaited<ReturnType<typeof listenDashboard>>;
  let auto: Autoscaler;
  try {
    server = await listenDashboard(kernel, opts.recentLog);
    try {
      auto = await Autoscaler.start(kernel);
    } catch (e) {
      await server?.close();
      throw e;
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    throw e;
  }
  server?.attach(auto);
  let recording: { stream: WriteStream; sub: ReturnType<typeof record> } | undefined;
  if (fd !== undefined) {
    const stream = createWriteStream('', { fd });
    recording = { stream, sub: record(auto, (line) => stream.write(line + '\n')) };
  }
  const usage = new WorkerSeconds();
  const perPool = pools.length && auto.pools ? new PoolUsage(auto.pools, new Map(pools.map((p) => [p.name, p.cost]))) : undefined;
  const statusSub = auto.backend.status$.subscribe({
    next: (l) => {
      usage.observe(l, now());
      perPool?.observe(l, now());
    },
    error: () => undefined,
  });
  let scaleUps = 0;
  let scaleDowns = 0;
  let phase = 'starting';
  const workload = demoWorkload(opts.duration);
  const total = workload.bursts.reduce((n, b) => n + b.tasks.length, 0);
  let done = 0;
  const decisions = auto.decisions$.subscribe((r: DecisionRecord) => {
    if (r.outcome?.status === 'scaled-up' && r.outcome.started?.length) scaleUps++;
    if (r.outcome?.stopped?.length && r.recommendation.status === 'down') scaleDowns++;
    const i = r.inputs!;
    const arrow = r.recommendation.status === 'up' ? ' ▲' : r.recommendation.status === 'down' ? ' ▼' : '';
    live(
      `[${now().toFixed(0).padStart(3)}s] workers ${String(usage.alive).padStart(2)} (${perPool ? `${perPool.line()}, ` : ''}connected ${i.workers}, target ${r.target}${r.safeTarget !== r.target ? `→${r.safeTarget}` : ''})` +
        ` queued ${i.tasksQueued} processing ${i.tasksProcessing} done ${done}/${total}${arrow}  ${phase}`,
    );
  });

  // Ctrl-C or SIGTERM: stop the workers we started, then leave (130 = interrupted).
  const onSignal = (sig: NodeJS.Signals) => {
    io.stderr(`\nreceived ${sig}: stopping the demo's workers\n`);
    void auto
      .shutdown(`signal ${sig}`)
      .then(() => server?.close())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const address = auto.scheduler.address!;
  const workers = pools.length
    ? `pools ${pools.map((p) => `${p.name} (${p.backend.type}, cost ${p.cost}, maximum ${Number.isFinite(p.maximum) ? p.maximum : 'inf'})`).join(', ')}`
    : `${kernel.config.backend.type} workers`;
  io.stderr(`ebbtide demo: embedded scheduler at ${address}, ${workers}, minimum ${minimum}, maximum ${maximum}, ${opts.duration}s\n`);
  if (opts.record) io.stderr(`recording to ${opts.record}\n`);
  if (server) io.stderr(dashboardLine(server, kernel) + '\n');
  const client = await Client.connect(address);
  const taskModule = new URL('../demo/tasks.js', import.meta.url).href;
  let stats;
  try {
    stats = await runWorkload(
      workload,
      {
        submit: (fn, args, o) => client.submit(fn, args, o),
        gather: async (keys) => {
          const r = await client.gather(keys);
          done += keys.length;
          return r;
        },
        release: (keys) => client.release(keys),
      },
      taskModule,
      {
        now,
        sleepUntil: (t) => new Promise((r) => setTimeout(r, Math.max(0, (t - now()) * 1000))),
        onPhase: (p) => (phase = p),
      },
    );
    // Run for the whole duration so both clusters are compared over the same wall time; if the
    // cluster has not drained to its minimum by then, give it up to 30 s more.
    const deadline = Math.max(opts.duration, now()) + 30;
    while (now() < deadline && (now() < opts.duration || usage.alive > minimum)) {
      phase = usage.alive > minimum ? 'workload done: draining' : 'workload done: idle at minimum';
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.close().catch(() => undefined);
  }
  const wall = now();
  const finalWorkers = usage.alive;
  const summary: DemoSummary = {
    tasksSubmitted: stats.tasksSubmitted,
    tasksCompleted: stats.tasksCompleted,
    resultsChecked: stats.resultsChecked,
    resultsLost: stats.resultsLost,
    peakWorkers: usage.peak,
    finalWorkers,
    minimum,
    maximum,
    workerSeconds: round1(usage.total(wall)),
    staticWorkerSeconds: round1(maximum * wall),
    scaleUps,
    scaleDowns,
  };
  if (perPool) {
    summary.pools = perPool.summary(wall);
    summary.cost = Math.round(Object.values(summary.pools).reduce((n, p) => n + p.cost, 0) * 1000) / 1000;
  }
  decisions.unsubscribe();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await auto.shutdown('demo finished');
  if (recording) {
    recording.sub.unsubscribe();
    await new Promise<void>((r) => recording!.stream.end(r));
  }
  await server?.close();
  statusSub.unsubscribe();
  if (io.isTTY && !opts.json) io.stderr('\n');
  for (const e of stats.errors.slice(0, 10)) io.stderr(`result problem: ${e}\n`);
  if (opts.json) {
    io.stdout(JSON.stringify(summary) + '\n');
  } else {
    const saving = summary.staticWorkerSeconds > 0 ? Math.round((1 - summary.workerSeconds / summary.staticWorkerSeconds) * 100) : 0;
    io.stdout(
      [
        '',
        'ebbtide demo summary',
        `  tasks            ${summary.tasksCompleted}/${summary.tasksSubmitted} completed`,
        `  results          ${summary.resultsChecked} checked, ${summary.resultsLost} lost`,
        `  workers          peak ${summary.peakWorkers}, final ${summary.finalWorkers} (minimum ${minimum}, maximum ${maximum})`,
        `  scaling          ${summary.scaleUps} scale-ups, ${summary.scaleDowns} scale-downs`,
        `  worker-seconds   ${summary.workerSeconds} adaptive vs ${summary.staticWorkerSeconds} for a static cluster of ${maximum} (${saving}% saved over ${round1(wall)}s)`,
        ...Object.entries(summary.pools ?? {}).map(([name, p]) => `  pool ${name.padEnd(11)} peak ${p.peak}, ${p.workerSeconds} worker-seconds, cost ${p.cost}`),
        ...(summary.cost !== undefined ? [`  cost             ${summary.cost} (Σ pool cost × worker-hours)`] : []),
        '',
      ].join('\n'),
    );
  }
  return summary.resultsLost === 0 && finalWorkers === minimum ? 0 : 1;
}
