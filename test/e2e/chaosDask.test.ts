import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { DaskComm, parseIdentity } from '@ebbtide/scheduler-dask';
import { DASK_2022, DASK_2026, type DaskScheduler, PythonClient, daskWorkerCommand, daskWorkerPids, duplicateNameRefusals, requireDask, startDaskScheduler } from '../support/dask.js';
import { FIXTURES } from '../support/paths.js';
import { alive, killAll, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';
import { PeakSampler, chaosSeed, faultPlan, seeded } from '../support/chaos.js';

const SOAK_CLIENT = join(FIXTURES, 'dask', 'soak_client.py');
const MAXIMUM = 3;
const FAULTS = ['kill-worker', 'kill-ebbtide', 'kill-scheduler', 'term-keep-while-retiring'] as const;
type Fault = (typeof FAULTS)[number];

interface CheckReport {
  held: number;
  ok: number;
  wrong: string[];
  lost: string[];
  recomputed: string[];
  cancelled: string[];
}

/**
 * Bursts and idle gaps against a real Dask scheduler with the local backend, with a seeded
 * fault in every cycle: a worker, ebbtide or the scheduler killed with SIGKILL (and the latter
 * two restarted), or ebbtide sent SIGTERM with `shutdown.workers: keep` in the middle of a
 * retirement (and restarted). At the end: no result the client still held was lost, never more
 * than `maximum` workers connected at any sampled moment, no duplicate-name registration, and no
 * worker process left after the final stop.
 */
/**
 * Cycles per release: against 2022.12 every fault kind once and then seeded repeats, against
 * 2026.8 one cycle per fault kind, to keep CI time (each cycle is a burst, a fault and an idle
 * gap: ~7 s). `EBBTIDE_CHAOS_CYCLES=N` runs a longer soak against 2022.12.
 */
const LONG_SOAK = Number(process.env.EBBTIDE_CHAOS_CYCLES ?? 6);
const SOAKS = [
  { dask: DASK_2022, cycles: Number.isSafeInteger(LONG_SOAK) && LONG_SOAK > 0 ? LONG_SOAK : 6 },
  { dask: DASK_2026, cycles: FAULTS.length },
];

for (const { dask, cycles } of SOAKS) describe(`chaos soak: real Dask ${dask.label} scheduler, local backend, seeded faults`, function () {
  this.timeout(Math.max(300_000, cycles * 30_000));
  const seed = chaosSeed();
  const plan = faultPlan(FAULTS, cycles, seed);
  const rnd = seeded(seed * 7919);
  let scheduler: DaskScheduler;
  const schedulerLogs: string[] = [];
  let port = 0;
  const dirs: string[] = [];
  let up: EbbtideProcess | undefined;
  const ups: EbbtideProcess[] = [];
  const workerPids = new Set<number>();
  let client: PythonClient | undefined;

  before(function () {
    requireDask(dask);
  });
  after(async () => {
    client?.kill();
    for (const u of ups) u.kill('SIGKILL');
    killAll([...workerPids].filter(alive));
    await scheduler?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const track = () => {
    for (const pid of daskWorkerPids(`tcp://127.0.0.1:${port}`)) workerPids.add(pid);
  };

  const startUp = (workers: 'stop' | 'keep') => {
    up = EbbtideProcess.start([
      'up',
      '--scheduler.type',
      'dask',
      '--scheduler.address',
      `tcp://127.0.0.1:${port}`,
      '--scheduler.dask.maxStartAttempts',
      '0',
      '--backend.local.command',
      JSON.stringify(daskWorkerCommand(dirs[1]!, dask)),
      '--backend.local.stateDir',
      dirs[0]!,
      '--adaptive.interval',
      '300ms',
      '--adaptive.waitCount',
      '3',
      '--adaptive.minimum',
      '0',
      '--adaptive.maximum',
      String(MAXIMUM),
      '--adaptive.targetDuration',
      '1s',
      '--cluster.memoryLimit',
      '500MB',
      '--cluster.name',
      'chaos',
      '--shutdown.workers',
      workers,
      '--shutdown.timeout',
      '5s',
    ]);
    ups.push(up);
    return up.waitForStdout(/ebbtide up: cluster chaos/, 60_000, 'ebbtide up to start');
  };

  async function restartScheduler(): Promise<void> {
    schedulerLogs.push(scheduler.log());
    await scheduler.stop();
    scheduler = await startDaskScheduler(port, dask);
  }

  it(`keeps every held result and the bounds through ${plan.length} faults (seed ${seed}: ${plan.join(', ')})`, async () => {
    dirs.push(mkdtempSync(join(tmpdir(), 'ebbtide-chaos-state-')), mkdtempSync(join(tmpdir(), 'ebbtide-chaos-workers-')));
    scheduler = await startDaskScheduler(0, dask);
    port = scheduler.port;
    const sampler = new PeakSampler(async () => {
      const comm = await DaskComm.connect(`tcp://127.0.0.1:${port}`, { connectTimeoutMs: 1000, callTimeoutMs: 1000, rx: asyncScheduler });
      try {
        return parseIdentity(await comm.call('identity')).filter((w) => w.name.startsWith('chaos-')).length;
      } finally {
        comm.close();
      }
    });
    sampler.start();
    await startUp('keep');
    client = PythonClient.start(SOAK_CLIENT, scheduler.address, dask);
    await client.line('ready');

    const totals = { held: 0, ok: 0, recomputed: 0, cancelled: 0 };
    const say = (t: string) => process.stdout.write(`      [chaos ${new Date().toISOString().slice(11, 19)}] ${t}\n`);
    for (const [i, fault] of plan.entries()) {
      say(`cycle ${i}: burst, then ${fault}`);
      // A burst: 12 tasks of 0.5 s, 4 results held through the idle gap that follows.
      client.send(`burst ${i} 12 0.5 4`);
      if (fault === 'kill-worker') {
        // A worker busy with the burst: its running tasks must be done again elsewhere.
        await up!.waitForStatus(/processing=[1-9]/, 60_000);
        track();
        const victims = daskWorkerPids(`tcp://127.0.0.1:${port}`);
        process.kill(victims[Math.floor(rnd() * victims.length)]!, 'SIGKILL');
      }
      const burst = await client.line(`burst-`, 180_000);
      say(burst);
      if (fault === 'kill-ebbtide') {
        up!.kill('SIGKILL');
        await up!.exited;
        await startUp('keep');
      } else if (fault === 'kill-scheduler') {
        await restartScheduler();
      } else if (fault === 'term-keep-while-retiring') {
        // The idle gap begins: SIGTERM as soon as ebbtide starts retiring workers.
        const before = up!.events('scale.down').length;
        await until(() => up!.events('scale.down').length > before || !up!.running, 60_000, 'a retirement to start');
        up!.kill('SIGTERM');
        expect((await up!.exited).code, up!.stderr.slice(-2000)).to.equal(0);
        await startUp('keep');
      }
      // The idle gap: the cluster shrinks to what the held results need (one worker, or none
      // when a restarted scheduler forgot them), moving them off the retired workers first.
      await up!.waitForEvent('adaptive.start');
      await up!.waitForStatus(/workers=[01] plan=[01] requested=[01] queued=0 unrunnable=0 processing=0/, 120_000);
      say('idle; checking the held results');
      client.send('check');
      const report = JSON.parse((await client.line('check ', 240_000)).slice(6)) as CheckReport;
      say(`check ${JSON.stringify(report)}`);
      expect(report.lost, `cycle ${i} (${fault}): held results lost`).to.deep.equal([]);
      expect(report.wrong, `cycle ${i} (${fault}): wrong values`).to.deep.equal([]);
      if (fault !== 'kill-scheduler') expect(report.cancelled, `cycle ${i} (${fault}): results dropped without a scheduler restart`).to.deep.equal([]);
      if (!burst.startsWith('burst-failed')) expect(report.held).to.equal(4);
      totals.held += report.held;
      totals.ok += report.ok;
      totals.recomputed += report.recomputed.length;
      totals.cancelled += report.cancelled.length;
      client.send('release');
      await client.line('released');
      track();
    }

    // The final stop retires and stops everything.
    up!.kill('SIGTERM');
    await up!.exited;
    await startUp('stop');
    await up!.waitForEvent('adaptive.start');
    await up!.waitForStdout(/ebbtide up: cluster chaos/);
    up!.kill('SIGTERM');
    expect((await up!.exited).code, up!.stderr.slice(-2000)).to.equal(0);
    sampler.stop();
    track();
    await until(() => [...workerPids].every((p) => !alive(p)), 30_000, 'every worker process to be gone');

    schedulerLogs.push(scheduler.log());
    const duplicates = schedulerLogs.reduce((n, log) => n + duplicateNameRefusals(log), 0);
    const report = { dask: dask.label, seed, plan, peakConnected: sampler.peak, samples: sampler.samples, ...totals, duplicates, ebbtideRuns: ups.length };
    process.stdout.write(`      chaos report: ${JSON.stringify(report)}\n`);
    expect(sampler.samples, 'the sampler saw the cluster').to.be.above(50);
    expect(sampler.peak, 'workers connected at the busiest sampled moment').to.be.at.most(MAXIMUM);
    expect(duplicates, 'duplicate-name registrations').to.equal(0);
    expect(totals.ok + totals.cancelled, 'every held result came back (or went with a restarted scheduler)').to.equal(totals.held);
  });
});
