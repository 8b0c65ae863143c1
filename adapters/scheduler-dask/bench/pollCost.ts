/**
 * Poll cost of the Dask scheduler adapter.
 *
 * 1. Real: a Dask 2022.12 scheduler with 4 workers on this machine, polled repeatedly in three
 *    states (idle; 1,000 tasks blocked, most of them queued; 1,000 results held in memory):
 *    ms per poll (read + build), bytes received and sent per poll. (What a poll costs the
 *    scheduler's own CPU, at 10 to 1,000 workers, is `schedulerCpu.ts`.)
 * 2. Extrapolated to 1,000 workers: a synthetic `identity` reply of 1,000 workers, cloned from a
 *    real worker entry, plus a `processing` reply of 2 tasks per worker: bytes, and the time to
 *    decode and turn them into WorkerInfos here; the time Python's msgpack takes to encode the
 *    same reply on the scheduler side.
 * 3. Task-dependent parts per 100,000 tasks: `who_has` and `get_task_status` replies.
 *
 * Run: `npx tsc -b adapters/scheduler-dask && node adapters/scheduler-dask/dist/bench/pollCost.js [2022.12|2026.8]`
 * (the Dask release to measure against; Debian's 2022.12 by default)
 * Prints figures only; nothing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DaskComm,
  SnapshotBuilder,
  countPending,
  decodeMessage,
  encodeFrames,
  encodeMessage,
  parseIdentity,
  parseProcessing,
  readPoll,
  workerInfos,
} from '../src/index.js';
import { ProcessRegistry, PythonClient, startScheduler, startWorker } from '../test/helpers/daskProcesses.js';
import { DASK_VERSIONS } from '../test/helpers/daskVersions.js';

/** Bytes received per op over a run, by wrapping `call`. */
function countBytesPerOp(comm: DaskComm): Map<string, number> {
  const perOp = new Map<string, number>();
  const call = comm.call.bind(comm);
  comm.call = (async (op: string, args?: Record<string, unknown>, options?: object) => {
    const before = comm.bytesRead;
    try {
      return await call(op, args, options);
    } finally {
      perOp.set(op, (perOp.get(op) ?? 0) + comm.bytesRead - before);
    }
  }) as DaskComm['call'];
  return perOp;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

interface PollFigures {
  state: string;
  polls: number;
  msMedian: number;
  msP90: number;
  /** Median bytes received per op. */
  perOp: string;
  bytesIn: number;
  bytesOut: number;
  tasks: number;
  statusQueried: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function measurePolls(comm: DaskComm, state: string, polls: number): Promise<PollFigures> {
  const builder = new SnapshotBuilder();
  const clock = () => performance.now() / 1000;
  await readPoll(comm, builder.state, clock); // warm-up: enables the task stream, fills caches
  const ms: number[] = [];
  const bytesIn: number[] = [];
  const bytesOut: number[] = [];
  let last = { tasks: 0, statusQueried: 0 };
  const perOp = countBytesPerOp(comm);
  for (let i = 0; i < polls; i++) {
    const r0 = comm.bytesRead;
    const w0 = comm.bytesWritten;
    const t0 = performance.now();
    const raw = await readPoll(comm, builder.state, clock);
    builder.build(raw, performance.now() / 1000);
    ms.push(performance.now() - t0);
    bytesIn.push(comm.bytesRead - r0);
    bytesOut.push(comm.bytesWritten - w0);
    last = { tasks: raw.tasks, statusQueried: raw.statusQueried };
  }
  delete (comm as { call?: unknown }).call; // back to the prototype's method
  const ops = [...perOp].map(([op, b]) => `${op} ${kb(b / polls)}`).join(', ');
  return { state, polls, msMedian: quantile(ms, 0.5), msP90: quantile(ms, 0.9), perOp: ops, bytesIn: quantile(bytesIn, 0.5), bytesOut: quantile(bytesOut, 0.5), ...last };
}

/** Median ms of `fn` over `reps` runs. */
function time(reps: number, fn: () => unknown): number {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return quantile(ms, 0.5);
}

/** Median ms Python's msgpack (as the scheduler uses it) takes to encode the same bytes' value. */
function pythonEncodeMs(python: string, bytes: Uint8Array, reps: number): number | undefined {
  const script = `
import msgpack, sys, time
obj = msgpack.loads(sys.stdin.buffer.read(), strict_map_key=False, raw=False)
ts = []
for _ in range(${reps}):
    t0 = time.perf_counter(); msgpack.dumps(obj, use_bin_type=True); ts.append(time.perf_counter() - t0)
ts.sort(); print(ts[len(ts) // 2] * 1000)
`;
  const r = spawnSync(python, ['-c', script], { input: Buffer.from(bytes) });
  return r.status === 0 ? Number(r.stdout.toString().trim()) : undefined;
}

async function main(): Promise<void> {
  const label = process.argv[2] ?? '2022.12';
  const dask = DASK_VERSIONS.find((v) => v.label === label);
  if (!dask) throw new Error(`unknown Dask release ${label}: one of ${DASK_VERSIONS.map((v) => v.label).join(', ')}`);
  const reg = new ProcessRegistry(dask);
  try {
    const scheduler = await startScheduler(reg);
    await Promise.all([1, 2, 3, 4].map((i) => startWorker(reg, scheduler.address, `bench-${i}`)));
    const client = await PythonClient.start(reg, scheduler.address);
    const comm = await DaskComm.connect(scheduler.address, { connectTimeoutMs: 10_000, callTimeoutMs: 30_000 });
    const gate = join(reg.tempDir('bench-gate'), 'open');
    rmSync(gate, { force: true });

    const figures: PollFigures[] = [];
    figures.push(await measurePolls(comm, 'idle, 4 workers', 50));
    await client.request({ cmd: 'map_blocking', prefix: 'block', n: 1000, gate });
    figures.push(await measurePolls(comm, '4 workers, 1,000 tasks blocked (8 processing, 992 queued)', 50));
    writeFileSync(gate, '');
    await client.request({ cmd: 'run_sleeps', prefix: 'held', n: 1000, seconds: 0 });
    // Measured once the completions are older than the task-stream overlap (steady state).
    await new Promise((r) => setTimeout(r, 1500));
    figures.push(await measurePolls(comm, '4 workers, 2,000 results in memory, no new completions', 50));
    const r0 = comm.bytesRead;
    await comm.call('get_task_stream', { count: 1000 });
    const streamBytesPerTask = (comm.bytesRead - r0) / 1000;

    console.log('Real Dask 2022.12 scheduler, 4 workers (127.0.0.1), one poll = processing, ncores_running, who_has, get_task_prefix_states, [get_task_status], get_task_stream, [identity]:');
    console.log('| state | ms/poll median | p90 | bytes in/poll | bytes out/poll | tasks | statuses asked |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const f of figures) {
      console.log(`| ${f.state} | ${f.msMedian.toFixed(2)} | ${f.msP90.toFixed(2)} | ${kb(f.bytesIn)} | ${kb(f.bytesOut)} | ${f.tasks} | ${f.statusQueried} |`);
    }
    for (const f of figures) console.log(`- ${f.state}: mean bytes in per op: ${f.perOp}`);
    console.log(`- task stream: ${streamBytesPerTask.toFixed(0)} B per completed task; each is read about twice (tail reads ask for twice the last number of new completions, at least 8)`);

    // 1,000 workers: clone a real worker entry of identity.
    const identity = (await comm.call('identity')) as { workers: Record<string, Record<string, unknown>> };
    const template = Object.values(identity.workers)[0]!;
    const workers: Record<string, unknown> = {};
    const processing: Record<string, string[]> = {};
    for (let i = 0; i < 1000; i++) {
      const address = `tcp://10.${(i >> 8) & 255}.${i & 255}.7:${30000 + i}`;
      workers[address] = { ...template, id: `worker-${i}`, name: `worker-${i}`, local_directory: `/tmp/dask-worker-space/worker-${i}` };
      processing[address] = [`block-${i}-0`, `block-${i}-1`];
    }
    const identityBytes = encodeFrames([encodeMessage({ ...identity, workers })]);
    const processingBytes = encodeFrames([encodeMessage(processing)]);
    const decodeIdentityMs = time(50, () => parseIdentity(decodeMessage(identityBytes.subarray(24))));
    const decodeProcessingMs = time(50, () => parseProcessing(decodeMessage(processingBytes.subarray(24))));
    const views = parseIdentity(decodeMessage(identityBytes.subarray(24)));
    const procMap = parseProcessing(decodeMessage(processingBytes.subarray(24)));
    const buildMs = time(50, () => workerInfos(views, procMap, () => 0, 1));
    const pyIdentityMs = pythonEncodeMs(dask.python, identityBytes.subarray(24), 50);
    const perWorker = (identityBytes.byteLength + processingBytes.byteLength) / 1000;

    console.log('\nExtrapolation to 1,000 workers (synthetic replies cloned from a real worker entry):');
    console.log(`- identity reply: ${kb(identityBytes.byteLength)}, decode + parse here: ${decodeIdentityMs.toFixed(2)} ms; Python msgpack encode on the scheduler: ${pyIdentityMs?.toFixed(2) ?? 'n/a'} ms`);
    console.log(`- processing reply (2 tasks/worker): ${kb(processingBytes.byteLength)}, decode + parse: ${decodeProcessingMs.toFixed(2)} ms`);
    console.log(`- WorkerInfo build for 1,000 workers: ${buildMs.toFixed(2)} ms`);
    console.log(`- worker-dependent bytes per poll: ${kb(perWorker * 1000)} per 1,000 workers (${perWorker.toFixed(0)} B/worker)`);

    // Task-dependent parts, per 100,000 tasks.
    const whoHas: Record<string, string[]> = {};
    const status: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) {
      const key = `block-${(i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0')}-${i}`;
      whoHas[key] = i % 10 === 0 ? ['tcp://10.0.0.1:30000'] : [];
      status[key] = i % 10 === 0 ? 'memory' : 'queued';
    }
    const whoHasBytes = encodeFrames([encodeMessage(whoHas)]);
    const statusBytes = encodeFrames([encodeMessage(status)]);
    const queuedKeys = Object.keys(status).filter((k) => status[k] === 'queued');
    const statusRequestBytes = encodeFrames([encodeMessage({ op: 'get_task_status', reply: true, keys: queuedKeys })]);
    const whoHasMs = time(10, () => decodeMessage(whoHasBytes.subarray(24)));
    const statusMs = time(10, () => countPending(decodeMessage(statusBytes.subarray(24)) as Record<string, string>));
    const pyWhoHasMs = pythonEncodeMs(dask.python, whoHasBytes.subarray(24), 10);
    console.log('\nTask-dependent parts per 100,000 tasks (90% queued, 10% in memory):');
    console.log(`- who_has reply: ${kb(whoHasBytes.byteLength)}, decode: ${whoHasMs.toFixed(1)} ms; Python msgpack encode: ${pyWhoHasMs?.toFixed(1) ?? 'n/a'} ms`);
    console.log(`- get_task_status: request ${kb(statusRequestBytes.byteLength)} (${queuedKeys.length} keys), reply ${kb(statusBytes.byteLength)}, decode + count: ${statusMs.toFixed(1)} ms`);

    comm.close();
    await client.request({ cmd: 'release', keys: [] });
  } finally {
    await reg.killAll();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
