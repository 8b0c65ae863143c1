import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Autoscaler, type DecisionRecord, Kernel } from '@ebbtide/core';
import { builtinDefaults, builtinPlugins } from '@ebbtide/cli';
import { DASK_VERSIONS, type DaskScheduler, PythonClient, daskWorkerCommand, daskWorkerPids, requireDask, startDaskScheduler } from '../support/dask.js';
import { FIXTURES } from '../support/paths.js';
import { EbbtideProcess } from '../support/upProcess.js';
import { alive, killAll, until } from '../support/processes.js';

const CLIENT = join(FIXTURES, 'dask', 'burst_client.py');

for (const dask of DASK_VERSIONS) describe(`e2e: adapting a real Dask ${dask.label} cluster`, function () {
  this.timeout(180_000);
  let scheduler: DaskScheduler;
  let localDir: string;
  const pids = new Set<number>();

  before(function () {
    // .ci/run installs both releases; without one there is no real Dask to test against.
    requireDask(dask);
  });
  beforeEach(async () => {
    scheduler = await startDaskScheduler(0, dask);
    localDir = mkdtempSync(join(tmpdir(), 'ebbtide-dask-workers-'));
  });
  afterEach(async () => {
    for (const pid of daskWorkerPids(scheduler.address)) pids.add(pid);
    killAll(pids);
    await scheduler.stop();
    rmSync(localDir, { recursive: true, force: true });
  });

  it('scales 0 -> >=3 for a burst, down when idle keeping held results, and to 0 once they are released', async () => {
    const kernel = await Kernel.create({
      builtins: builtinPlugins(),
      defaults: builtinDefaults(),
      sources: {
        env: {},
        flags: {
          'scheduler.type': 'dask',
          'scheduler.address': scheduler.address,
          'backend.local.command': JSON.stringify(daskWorkerCommand(localDir, dask)),
          'adaptive.interval': '500ms',
          'adaptive.waitCount': '3',
          'adaptive.maximum': '4',
          'adaptive.targetDuration': '1s',
          'cluster.memoryLimit': '500MB',
          'cluster.name': 'dw',
        },
      },
    });
    const auto = await Autoscaler.start(kernel);
    const records: DecisionRecord[] = [];
    auto.decisions$.subscribe((r) => records.push(r));
    const client = PythonClient.start(CLIENT, scheduler.address, dask);
    try {
      await client.line('ready');
      client.send('burst 40 1.0 5');
      await until(
        () => {
          for (const pid of daskWorkerPids(scheduler.address)) pids.add(pid);
          return auto.store.counts().workers >= 3;
        },
        90_000,
        '>= 3 Dask workers',
      );
      await client.line('burst-done', 120_000);
      // Idle, holding 5 small results: Dask's heuristic keeps only what memory needs.
      const stopped = () => records.filter((r) => r.recommendation.status === 'down').flatMap((r) => r.outcome?.stopped ?? []);
      await until(() => stopped().length >= 2 && auto.store.counts().workers <= 2, 60_000, 'scale-down while results are held');
      client.send('gather');
      expect(await client.line('results')).to.equal('results [0, 10, 20, 30, 40]');
      client.send('release');
      await client.line('released');
      await until(() => auto.store.counts().workers === 0 && auto.cluster.plan.length === 0, 60_000, 'back to minimum 0');
      expect(auto.cluster.requested).to.deep.equal([]);
      await until(() => [...pids].every((p) => !alive(p)), 20_000, 'Dask worker processes to exit');
    } finally {
      client.send('exit');
      client.kill();
      await auto.shutdown('test end');
    }
  });

  it('ebbtide up retires its workers through Dask on SIGTERM, exits 0 and leaves no Dask worker process', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-state-'));
    const up = EbbtideProcess.start([
      'up',
      '--scheduler.type',
      'dask',
      '--scheduler.address',
      scheduler.address,
      '--adaptive.minimum',
      '2',
      '--adaptive.interval',
      '500ms',
      '--backend.local.stateDir',
      stateDir,
      '--backend.local.command',
      JSON.stringify(daskWorkerCommand(localDir, dask)),
    ]);
    try {
      // Both workers registered with the scheduler: shutdown must go through retirement.
      await up.waitForStatus(/workers=2 /, 60_000);
      for (const pid of daskWorkerPids(scheduler.address)) pids.add(pid);
      up.kill('SIGTERM');
      expect((await up.exited).code, up.stderr.slice(-2000)).to.equal(0);
      const retired = up.events('scheduler.retire').flatMap((l) => l.outcomes as Array<{ name: string; status: string }>);
      expect(retired.map((o) => [o.name, o.status]).sort()).to.deep.equal([
        ['ebbtide-0', 'retired'],
        ['ebbtide-1', 'retired'],
      ]);
      expect(up.events('worker.kill'), 'no worker had to be SIGKILLed').to.deep.equal([]);
      await until(() => [...pids].every((p) => !alive(p)), 20_000, 'Dask worker processes to exit');
    } finally {
      up.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
