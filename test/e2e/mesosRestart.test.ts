import 'reflect-metadata';
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DaskScheduler, daskInstalled, daskWorkerCommand, startDaskScheduler } from '../support/dask.js';
import { type TestMaster, liveTaskCounts, startTestMaster } from '../support/mesos.js';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { alive, until } from '../support/processes.js';

/**
 * Restart adoption through `ebbtide up`: real Dask workers run as Mesos tasks; the first ebbtide
 * is killed with SIGKILL (no TEARDOWN, no retirement), the master keeps the framework for its
 * failover_timeout, and the second ebbtide re-subscribes as the same framework, adopts both
 * workers without launching any, and on SIGTERM retires and kills them.
 */
describe('ebbtide up on Mesos: a restarted ebbtide adopts the tasks of the one that died', function () {
  this.timeout(240_000);
  let scheduler: DaskScheduler | undefined;
  let tm: TestMaster | undefined;
  const ups: ChildProcess[] = [];
  let dir: string;

  before(function () {
    if (!daskInstalled()) throw new Error('python3-distributed is not installed: run .ci/run, or apt-get install python3-distributed');
  });
  afterEach(async () => {
    for (const up of ups.splice(0)) if (up.pid && alive(up.pid)) up.kill('SIGKILL');
    await tm?.stop();
    await scheduler?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function startUp(): { proc: ChildProcess; out: () => string; exited: Promise<number | null> } {
    const args = [
      EBBTIDE_BIN,
      'up',
      '--cluster.name',
      'mrestart',
      '--cluster.memoryLimit',
      '500MB',
      '--scheduler.type',
      'dask',
      '--scheduler.address',
      scheduler!.address,
      '--adaptive.minimum',
      '2',
      '--adaptive.interval',
      '500ms',
      '--backend.type',
      'mesos',
      '--backend.mesos.master',
      tm!.master.url(),
      '--backend.mesos.stateDir',
      join(dir, 'state'),
      '--backend.mesos.command',
      JSON.stringify(daskWorkerCommand(join(dir, 'dask'))),
    ];
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    ups.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    return { proc, out: () => out, exited };
  }

  it('adopts both workers (same framework, same processes, nothing launched), then retires and stops them on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-restart-'));
    scheduler = await startDaskScheduler();
    tm = await startTestMaster();
    const { master } = tm;

    const first = startUp();
    await until(() => liveTaskCounts(master).size === 2, 90_000, 'two Dask worker tasks');
    await until(() => /workers=2 plan=2/.test(first.out()), 60_000, `both registered with Dask (log: ${first.out().slice(-2000)})`);
    const fid = master.frameworkList[0]!.id;
    const pids = new Map(master.liveTasks().map((t) => [t.id, t.proc!.pid]));
    const accepts = master.calls.filter((c) => c.type === 'ACCEPT').length;
    first.proc.kill('SIGKILL');
    await first.exited;
    await until(() => master.framework(fid)?.stream === undefined, 10_000, 'the master to see the framework disconnect');
    expect(liveTaskCounts(master).size, 'the tasks outlive their ebbtide').to.equal(2);

    const second = startUp();
    await until(() => master.framework(fid)?.stream !== undefined, 30_000, `the second ebbtide to re-subscribe as ${fid} (log: ${second.out().slice(-2000)})`);
    // A few ticks with both adopted workers in the plan, and no start.
    await until(() => (second.out().match(/workers=2 plan=2/g) ?? []).length >= 1, 60_000, `the adopted workers in the second ebbtide's plan (log: ${second.out().slice(-2000)})`);
    expect(master.calls.filter((c) => c.type === 'ACCEPT').length, 'nothing launched by the second ebbtide').to.equal(accepts);
    expect(new Map(master.liveTasks().map((t) => [t.id, t.proc!.pid])), 'the same worker processes').to.deep.equal(pids);
    for (const n of liveTaskCounts(master).values()) expect(n).to.equal(1);

    second.proc.kill('SIGTERM');
    expect(await second.exited, second.out().slice(-2000)).to.equal(0);
    expect(liveTaskCounts(master).size, 'no task left').to.equal(0);
    // Retired first: each closed on the scheduler's request (or was killed after the grace period).
    const tasks = ((await (await fetch(`${master.url()}/master/tasks?framework_id=${fid}`)).json()) as { tasks: Array<{ id: string; state: string }> }).tasks;
    expect(tasks.map((t) => t.id).sort()).to.deep.equal([...pids.keys()].sort());
    for (const t of tasks) expect(['TASK_FINISHED', 'TASK_KILLED'], `${t.id} ended ${t.state}`).to.include(t.state);
    expect(master.calls.some((c) => c.type === 'TEARDOWN' && c.frameworkId === fid)).to.equal(true);
  });
});
