/**
 * What ebbtide's polling costs the Dask scheduler process, next to what Dask's own Adaptive tick
 * costs it, at 10, 100 and 1,000 workers.
 *
 * - Scheduler CPU is read from the scheduler's own process statistics (`/proc/PID/stat`, utime +
 *   stime) around a batch of calls made back to back for at least 1.5 s; the CPU the scheduler
 *   spends on its own in an equally long window right after (heartbeats, its periodic callbacks)
 *   is subtracted. Median of 3 batches, in ms of scheduler CPU per poll or per tick.
 * - Workers: 10 real `dask-worker` processes; for 100 and 1,000, `worker_fleet.py` processes
 *   each running up to 250 `distributed.Worker`s on one event loop (to the scheduler they are
 *   ordinary workers: they register, keep a stream, heartbeat as it asks).
 * - Dask's tick: what `distributed.deploy.Adaptive` asks the scheduler each interval,
 *   `adaptive_target(target_duration="5s")` then `workers_to_close(target=…, attribute="name")`,
 *   over the same wire.
 * - before: the previous poll (every call every time: identity, processing, who_has,
 *   get_task_prefix_states, [get_task_status], get_task_stream(count=8)).
 *   after: `readPoll` as the adapter runs it, with its clock stepped 1 s per poll (a 1 s poll
 *   interval), so `identity` is read as often as the adapter would read it then: once in 30 polls
 *   at rest, once per heartbeat interval while tasks move. The back-off (fewer polls while nothing
 *   changes) comes on top and is not counted here.
 * - States: idle (no task), and 2,000 tasks waiting for a resource no worker has (unrunnable,
 *   so counted through who_has + get_task_status every poll, and nothing runs; the adapter reads
 *   their restrictions once, in its first poll). With them, the cost of one restriction dump
 *   (`get_cluster_state` as `TaskRestrictions` asks it), which the adapter makes only when such a
 *   task is new.
 *
 * Run alone: `npx tsc -b adapters/scheduler-dask && node adapters/scheduler-dask/dist/bench/schedulerCpu.js [2022.12|2026.8] [10,100,1000]`;
 * in the repo benchmarks as the `daskPoll` group (`npm run bench -- --json daskPoll`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DaskComm } from '../src/wire/DaskComm.js';
import { keyFromId } from '../src/wire/daskKey.js';
import { parsePrefixStates, parseProcessing, parseTaskStatus, parseWhoHas } from '../src/poll/parseReplies.js';
import { countPending, pendingCandidates } from '../src/poll/pendingTasks.js';
import { PollState, readPoll } from '../src/poll/readPoll.js';
import { RESTRICTION_DUMP_EXCLUDE } from '../src/poll/TaskRestrictions.js';
import { ProcessRegistry, PythonClient, type Started, startScheduler, startWorker } from '../test/helpers/daskProcesses.js';
import { DASK_VERSIONS, type DaskVersion, requireDask } from '../test/helpers/daskVersions.js';

/** One figure of this benchmark, in the repo's bench format (see test/bench/report.ts). */
export interface CpuFigure {
  name: string;
  value: number;
  unit: string;
  baseline?: { value: number; note?: string };
  note?: string;
}

const FLEET = fileURLToPath(new URL('../../bench/worker_fleet.py', import.meta.url));
const PER_FLEET = 250;
const WINDOW_MS = 1500;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of `pid`, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Scheduler CPU (ms) per call of `fn`, background subtracted; median of 3 batches. */
async function cpuPerCall(pid: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const per: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < WINDOW_MS) {
      await fn();
      n++;
    }
    const wall = performance.now() - t0;
    const c1 = cpuMs(pid);
    await new Promise((r) => setTimeout(r, wall));
    const background = cpuMs(pid) - c1;
    per.push(Math.max(0, c1 - c0 - background) / n);
  }
  return per.sort((a, b) => a - b)[1]!;
}

/** The poll before this change: every call, every time. */
async function fullPoll(comm: DaskComm): Promise<void> {
  await comm.call('identity');
  const processing = parseProcessing(await comm.call('processing'));
  const whoHas = parseWhoHas(await comm.call('who_has'));
  const states = parsePrefixStates(await comm.call('get_task_prefix_states'));
  const ids = new Set<string>();
  for (const list of processing.values()) for (const id of list) ids.add(id);
  const candidates = pendingCandidates(whoHas, ids, states);
  if (candidates.length > 0) countPending(parseTaskStatus(await comm.call('get_task_status', { keys: candidates.map(keyFromId) })));
  await comm.call('get_task_stream', { count: 8 });
}

/** Dask's Adaptive tick, as `Adaptive.recommendations` makes it. */
async function daskTick(comm: DaskComm): Promise<void> {
  const target = (await comm.call('adaptive_target', { target_duration: '5s' })) as number;
  await comm.call('workers_to_close', { target, attribute: 'name' });
}

/** Starts `count` lightweight workers in processes of up to 250 and waits until all registered. */
async function startFleet(reg: ProcessRegistry, scheduler: string, count: number): Promise<void> {
  const dir = reg.tempDir('fleet');
  const starts: Promise<void>[] = [];
  for (let i = 0; i < count; i += PER_FLEET) {
    const n = Math.min(PER_FLEET, count - i);
    const child: ChildProcess = spawn(reg.dask.python, [FLEET, scheduler, String(n), `fleet${i}`, dir], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started: Started = {
      pid: child.pid!,
      output: () => err,
      kill: () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      },
      exited,
    };
    reg.track(started);
    starts.push(
      new Promise<void>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        lines.on('line', (l) => l === `ready ${n}` && resolve());
        void exited.then((code) => reject(new Error(`worker_fleet.py exited with ${code} before its workers registered:\n${err}`)));
      }),
    );
  }
  await Promise.all(starts);
}

/** Every figure at `workers` workers on a fresh scheduler of `dask`. */
async function atScale(dask: DaskVersion, workers: number, log: (f: CpuFigure) => void): Promise<void> {
  const reg = new ProcessRegistry(dask);
  try {
    const scheduler = await startScheduler(reg);
    if (workers <= 10) await Promise.all([...Array(workers).keys()].map((i) => startWorker(reg, scheduler.address, `real-${i}`)));
    else await startFleet(reg, scheduler.address, workers);
    const kind = workers <= 10 ? 'real worker processes' : `lightweight Workers, ${PER_FLEET} per process`;
    const client = await PythonClient.start(reg, scheduler.address);
    const comm = await DaskComm.connect(scheduler.address, { connectTimeoutMs: 10_000, callTimeoutMs: 60_000 });
    try {
      await comm.call('get_task_stream', { count: 1 }); // enables the task stream, as the adapter's first poll does
      for (const state of ['idle', '2,000 unrunnable tasks'] as const) {
        if (state !== 'idle') await client.request({ cmd: 'map_blocking', prefix: 'unrunnable', n: 2000, gate: '/nonexistent', resources: { NOSUCH: 1 } }, 60_000);
        const tick = await cpuPerCall(scheduler.pid, () => daskTick(comm));
        const before = await cpuPerCall(scheduler.pid, () => fullPoll(comm));
        const state1 = new PollState();
        let t = 0;
        const after = await cpuPerCall(scheduler.pid, () => readPoll(comm, state1, () => (t += 1)));
        const base = { value: tick, note: `Dask's Adaptive tick (adaptive_target + workers_to_close) on the same scheduler` };
        const tag = `${workers} workers, ${state}`;
        log({ name: `dask scheduler CPU per ebbtide poll, before, ${tag}`, value: before, unit: 'ms', baseline: base, note: `Dask ${dask.label}, ${kind}; every call every poll` });
        log({ name: `dask scheduler CPU per ebbtide poll, after, ${tag}`, value: after, unit: 'ms', baseline: base, note: `Dask ${dask.label}, ${kind}; poll interval 1 s` });
        log({ name: `dask scheduler CPU per Adaptive tick, ${tag}`, value: tick, unit: 'ms', note: `Dask ${dask.label}: adaptive_target + workers_to_close over RPC` });
        if (state !== 'idle') {
          // What reading the tasks' resource restrictions costs when it happens (a new unrunnable
          // or resource-worker task; never in the idle state): one get_cluster_state.
          const dump = await cpuPerCall(scheduler.pid, () => comm.call('get_cluster_state', { exclude: [...RESTRICTION_DUMP_EXCLUDE] }));
          log({ name: `dask scheduler CPU per restriction dump, ${tag}`, value: dump, unit: 'ms', baseline: base, note: `Dask ${dask.label}, ${kind}; get_cluster_state, every other field excluded` });
        }
      }
    } finally {
      comm.close();
    }
  } finally {
    await reg.killAll();
  }
}

/**
 * The figures for the repo benchmarks: Dask `label` (Debian's 2022.12 by default) at each scale.
 * @throws Error saying what to install when that Dask release is missing
 */
export async function schedulerCpuBenches(log: (f: CpuFigure) => void, label = '2022.12', scales: readonly number[] = [10, 100, 1000]): Promise<void> {
  const dask = DASK_VERSIONS.find((v) => v.label === label);
  if (!dask) throw new Error(`unknown Dask release ${label}: one of ${DASK_VERSIONS.map((v) => v.label).join(', ')}`);
  requireDask(dask);
  for (const workers of scales) await atScale(dask, workers, log);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const scales = process.argv[3] ? process.argv[3].split(',').map(Number) : undefined;
  schedulerCpuBenches(
    (f) => {
      const b = f.baseline ? `  (Dask tick ${f.baseline.value.toFixed(3)} ms, ratio ${(f.value / f.baseline.value).toFixed(2)})` : '';
      console.log(`${f.name.padEnd(82)} ${f.value.toFixed(3).padStart(8)} ${f.unit}${b}`);
    },
    process.argv[2],
    scales,
  ).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
