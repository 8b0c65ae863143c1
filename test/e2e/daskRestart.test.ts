import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DASK_VERSIONS,
  type DaskScheduler,
  PythonClient,
  daskWorkerCommand,
  daskWorkerPids,
  duplicateNameRefusals,
  registeredNames,
  requireDask,
  startDaskScheduler,
} from '../support/dask.js';
import { FIXTURES } from '../support/paths.js';
import { alive, killAll, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';

const SOAK_CLIENT = join(FIXTURES, 'dask', 'soak_client.py');

/** Registrations the Dask scheduler logged, by worker name, and its duplicate-name refusals. */
function registrations(scheduler: DaskScheduler): { names: string[]; duplicates: number } {
  const log = scheduler.log();
  return { names: registeredNames(log), duplicates: duplicateNameRefusals(log) };
}

/**
 * `ebbtide up` against a real Dask scheduler, killed and restarted the ways a supervisor, a
 * user or a crash would: each case is one of the reliability problems found by trying it.
 */
for (const dask of DASK_VERSIONS) describe(`e2e: ebbtide up is safe to restart (real Dask ${dask.label} scheduler, real dask workers)`, function () {
  this.timeout(180_000);
  let scheduler: DaskScheduler;
  let dirs: string[];
  const ups: EbbtideProcess[] = [];
  const pids = new Set<number>();
  const track = () => {
    for (const pid of daskWorkerPids(scheduler.address)) pids.add(pid);
  };

  before(function () {
    requireDask(dask);
  });
  beforeEach(async () => {
    scheduler = await startDaskScheduler(0, dask);
    dirs = [mkdtempSync(join(tmpdir(), 'ebbtide-state-')), mkdtempSync(join(tmpdir(), 'ebbtide-dask-workers-'))];
  });
  afterEach(async () => {
    for (const up of ups.splice(0)) up.kill('SIGKILL');
    track();
    killAll(pids);
    pids.clear();
    await scheduler.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const up = (flags: Record<string, string>, stateDir = dirs[0]!) => {
    const args = [
      'up',
      '--scheduler.type',
      'dask',
      '--scheduler.address',
      scheduler.address,
      '--backend.local.command',
      JSON.stringify(daskWorkerCommand(dirs[1]!, dask)),
      '--backend.local.stateDir',
      stateDir,
      '--adaptive.interval',
      '500ms',
      '--adaptive.targetDuration',
      '1s',
      '--cluster.memoryLimit',
      '500MB',
      '--cluster.name',
      'restart',
      ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]),
    ];
    const p = EbbtideProcess.start(args);
    ups.push(p);
    return p;
  };
  const connected = (n: number) =>
    until(
      () => {
        track();
        return registrations(scheduler).names.length >= n;
      },
      90_000,
      `${n} worker registrations`,
    );

  it('after a kill -9 of ebbtide, a new one adopts the running workers: no duplicate name, never above maximum', async () => {
    const first = up({ 'adaptive.minimum': '3', 'adaptive.maximum': '3' });
    await connected(3);
    await first.waitForStatus(/workers=3 /, 30_000);
    first.kill('SIGKILL');
    await first.exited;
    track();
    expect([...pids].filter(alive), 'the workers outlive their killed ebbtide').to.have.length(3);

    const second = up({ 'adaptive.minimum': '3', 'adaptive.maximum': '3' });
    await second.waitForStdout(/adopted 3 existing worker\(s\) of cluster restart: restart-0, restart-1, restart-2/, 30_000, 'the adoption line');
    // A burst wants more than the maximum: nothing new may start.
    const client = PythonClient.start(SOAK_CLIENT, scheduler.address, dask);
    try {
      await client.line('ready');
      client.send('burst a 30 0.5 0');
      await client.line('burst-done a', 120_000);
    } finally {
      client.send('exit');
      client.kill();
    }
    await second.waitForStatus(/queued=0 .*processing=0/, 30_000);
    const reg = registrations(scheduler);
    expect(reg.duplicates, 'duplicate-name registrations').to.equal(0);
    expect(reg.names.sort()).to.deep.equal(['restart-0', 'restart-1', 'restart-2']);
    expect(second.events('scale.up')).to.deep.equal([]);
    second.kill('SIGTERM');
    expect((await second.exited).code).to.equal(0);
    await until(() => [...pids].every((p) => !alive(p)), 30_000, 'worker processes to exit');
  });

  it('a second live ebbtide of the cluster on the same scheduler is refused, even with its own state folder', async () => {
    const first = up({ 'adaptive.minimum': '1' });
    await connected(1);
    const second = up({ 'adaptive.minimum': '1' }, mkdtempSync(join(tmpdir(), 'ebbtide-state-other-')));
    const { code } = await second.exited;
    expect(code).to.equal(1);
    expect(second.stderr).to.match(/error\[CLUSTER_LOCKED\]: cluster "restart" on the Dask scheduler .* is already driven by ebbtide pid \d+/);
    expect(registrations(scheduler).names).to.deep.equal(['restart-0']);
    first.kill('SIGTERM');
    expect((await first.exited).code).to.equal(0);
  });

  it('retired workers exit on their own: no SIGTERM stall on scale-down with the README worker command', async () => {
    const p = up({ 'adaptive.minimum': '0', 'adaptive.maximum': '3' });
    await p.waitForStdout(/ebbtide up: cluster restart/);
    const client = PythonClient.start(SOAK_CLIENT, scheduler.address, dask);
    try {
      await client.line('ready');
      client.send('burst b 24 1 0');
      await connected(2);
      await client.line('burst-done b', 120_000);
    } finally {
      client.send('exit');
      client.kill();
    }
    await p.waitForEvent('scale.down');
    await p.waitForStatus(/workers=0 plan=0 requested=0/);
    await until(() => p.events('worker.exited').length >= 2, 30_000, 'the worker processes to exit');
    const stopped = p.events('worker.exited');
    expect(stopped.length).to.be.at.least(2);
    expect(p.events('worker.kill'), 'SIGKILLs after an ignored SIGTERM').to.deep.equal([]);
    expect(p.events('worker.term'), 'retired workers that had to be signalled').to.deep.equal([]);
    p.kill('SIGTERM');
    expect((await p.exited).code).to.equal(0);
  });

  describe('SIGTERM while a client holds results (shutdown.workers: stop)', () => {
    it('waits for the client to release them, then stops: nothing lost, exit 0', async () => {
      const p = up({ 'adaptive.minimum': '1', 'adaptive.maximum': '1', 'shutdown.timeout': '60s' });
      await connected(1);
      const client = PythonClient.start(SOAK_CLIENT, scheduler.address, dask);
      try {
        await client.line('ready');
        client.send('burst c 40 0 40');
        await client.line('burst-done c');
        p.kill('SIGTERM');
        const waiting = await p.waitForEvent('shutdown.waiting');
        expect(waiting.results).to.equal(40);
        // The worker is kept while the client needs its results: they are all still there.
        client.send('check');
        const report = JSON.parse((await client.line('check ')).slice(6)) as { ok: number; lost: string[] };
        expect(report.ok).to.equal(40);
        client.send('release');
        await client.line('released');
        expect((await p.exited).code).to.equal(0);
        expect(p.events('shutdown.results-lost')).to.deep.equal([]);
      } finally {
        client.send('exit');
        client.kill();
      }
    });

    it('after shutdown.timeout, stops anyway and reports exactly what was lost: WARN, decision record, exit 3', async () => {
      const p = up({ 'adaptive.minimum': '1', 'adaptive.maximum': '1', 'shutdown.timeout': '3s' });
      await connected(1);
      const client = PythonClient.start(SOAK_CLIENT, scheduler.address, dask);
      try {
        await client.line('ready');
        client.send('burst d 40 0 40');
        await client.line('burst-done d');
        p.kill('SIGTERM');
        expect((await p.exited).code).to.equal(3);
        const lost = p.events('shutdown.results-lost');
        expect(lost).to.have.length(1);
        expect(lost[0]!.level).to.equal('warn');
        expect(lost[0]!.results).to.equal(40);
        expect((lost[0]!.keys as string[]).length).to.equal(20);
        expect((lost[0]!.keys as string[]).every((k) => /^soak-d-\d+$/.test(k))).to.equal(true);
        expect(p.stderr).to.match(/results lost: 40 on restart-0 \(soak-d-/);
      } finally {
        client.send('exit');
        client.kill();
      }
    });
  });

  it('shutdown.workers keep leaves the workers for the next ebbtide, which adopts them', async () => {
    const first = up({ 'adaptive.minimum': '2', 'shutdown.workers': 'keep' });
    await connected(2);
    await first.waitForStatus(/workers=2 /, 30_000);
    first.kill('SIGTERM');
    expect((await first.exited).code).to.equal(0);
    expect(first.stdout).to.match(/left 2 worker\(s\) running for the next ebbtide: restart-0, restart-1/);
    track();
    expect([...pids].filter(alive)).to.have.length(2);
    const second = up({ 'adaptive.minimum': '2' });
    await second.waitForStdout(/adopted 2 existing worker\(s\)/);
    expect(registrations(scheduler).names.sort()).to.deep.equal(['restart-0', 'restart-1']);
    second.kill('SIGTERM');
    expect((await second.exited).code).to.equal(0);
    await until(() => [...pids].every((p) => !alive(p)), 30_000, 'worker processes to exit');
  });
});
