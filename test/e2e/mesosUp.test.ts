import 'reflect-metadata';
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { type TestMaster, liveTaskCounts, startTestMaster } from '../support/mesos.js';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { alive, until } from '../support/processes.js';

interface Line {
  t: number;
  event?: { type: string; name?: string; worker?: { name: string } };
  decision?: { recommendation: { status: string; workers?: string[] } };
}

/**
 * `ebbtide up` with `backend.type: mesos` and its default worker command (ebbtide's own worker,
 * found on the agents' PATH) against the test master: the embedded scheduler's workers are Mesos
 * tasks running as real processes.
 */
describe('ebbtide up with the Mesos backend', function () {
  this.timeout(180_000);
  let tm: TestMaster | undefined;
  let up: ChildProcess | undefined;
  const path = process.env.PATH;
  before(() => {
    // The agents' PATH: where `ebbtide-worker` is installed.
    process.env.PATH = `${join(ROOT, 'node_modules', '.bin')}${delimiter}${path}`;
  });
  after(() => {
    process.env.PATH = path;
  });
  afterEach(async () => {
    if (up?.pid && alive(up.pid)) up.kill('SIGKILL');
    await tm?.stop();
  });

  it('scales 0 -> 3 -> 0: retires before it kills, the tasks that go are the retired ones, no result lost, the framework torn down', async () => {
    tm = await startTestMaster({ agents: [{ cpus: 2, mem: 4096 }, { cpus: 2, mem: 4096 }] });
    const { master } = tm;
    const dir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-up-'));
    const config = join(dir, 'ebbtide.yaml');
    writeFileSync(
      config,
      [
        'cluster:',
        '  name: mesos-up',
        '  memoryLimit: 512MiB',
        'adaptive:',
        '  interval: 200ms',
        '  maximum: 3',
        '  targetDuration: 1s',
        'backend:',
        '  type: mesos',
        '  mesos:',
        `    master: ${master.url()}`,
        `    stateDir: ${join(dir, 'state')}`,
        '    cpus: 0.5',
        '    gracePeriod: 3s',
        '',
      ].join('\n'),
    );
    const recording = join(dir, 'run.jsonl');
    up = spawn(process.execPath, [EBBTIDE_BIN, 'up', '-c', config, '--record', recording], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    up.stdout!.on('data', (d) => (stdout += d));
    up.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => up!.once('exit', (code) => r(code)));
    await until(() => /scheduler at (tcp:\/\/\S+)/.test(stdout), 30_000, 'the scheduler address');
    const address = /scheduler at (tcp:\/\/\S+)/.exec(stdout)![1]!;

    const client = await Client.connect(address);
    const naps: string[] = [];
    for (let i = 0; i < 12; i++) naps.push(await client.submit(builtinTask('sleep'), [1500], { prefix: 'nap' }));
    const incs: string[] = [];
    for (let i = 0; i < 20; i++) incs.push(await client.submit(builtinTask('inc'), [i], { prefix: 'inc' }));
    await until(() => [...liveTaskCounts(master).keys()].length === 3, 60_000, 'three worker tasks running on the master');
    for (const n of liveTaskCounts(master).values()) expect(n, 'no duplicate task process').to.equal(1);
    expect(await client.gather(incs)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    await client.gather(naps);
    await client.close();

    // Idle: back to 0 tasks, every one retired through the scheduler first.
    await until(() => liveTaskCounts(master).size === 0 && /down .*mesos-up-/.test(stdout), 60_000, 'the scale-down to 0');
    up.kill('SIGTERM');
    expect(await exited, stderr).to.equal(0);
    expect(stderr).to.match(/lost=0/);

    const lines = readFileSync(recording, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line & { startedAt?: string });
    const t0 = Date.parse(lines[0]!.startedAt!);
    const at = (l: Line) => t0 + l.t * 1000;
    const retired = new Set(lines.flatMap((l) => (l.decision?.recommendation.status === 'down' ? (l.decision.recommendation.workers ?? []) : [])));
    const launched = master.calls.filter((c) => c.type === 'ACCEPT').flatMap((c) => c.body!.accept!.operations!.flatMap((op) => op.launch?.task_infos ?? []).map((t) => t.task_id.value));
    expect(launched.sort(), 'launched once each').to.deep.equal(['mesos-up-0', 'mesos-up-1', 'mesos-up-2']);
    // The tasks that ended are exactly the retired workers, each after its retirement: a retired
    // worker closes on the scheduler's request (TASK_FINISHED); one that lingers past the grace
    // period is KILLed, and only after it left the scheduler.
    const tasks = (await (await fetch(`${master.url()}/master/tasks`)).json()) as { tasks: Array<{ id: string; state: string; statuses: Array<{ state: string; timestamp: number }> }> };
    expect(tasks.tasks.map((t) => t.id).sort(), 'the tasks that went are the retired ones').to.deep.equal([...retired].sort());
    for (const t of tasks.tasks) {
      expect(['TASK_FINISHED', 'TASK_KILLED'], `${t.id} ended ${t.state}`).to.include(t.state);
      const removed = lines.find((l) => l.event?.type === 'worker.removed' && l.event.name === t.id);
      expect(removed, `${t.id} left the scheduler`).to.not.equal(undefined);
      const end = t.statuses.find((st) => st.state === t.state)!.timestamp * 1000;
      // The recording's clock has millisecond steps, as has the master's.
      expect(at(removed!), `${t.id} retired (left the scheduler) before its task ended`).to.be.at.most(end + 1);
    }
    for (const k of master.calls.filter((c) => c.type === 'KILL')) {
      const name = k.body!.kill!.task_id!.value;
      expect(retired.has(name), `KILL of ${name}, which was retired`).to.equal(true);
      const removed = lines.find((l) => l.event?.type === 'worker.removed' && l.event.name === name)!;
      expect(at(removed), `${name} left the scheduler before its KILL`).to.be.at.most(k.at + 1);
      expect(k.body!.kill!.kill_policy?.grace_period?.nanoseconds).to.equal(3e9);
    }
    // Shutdown tore the framework down; the master shows no framework and no live task.
    const state = (await (await fetch(`${master.url()}/master/state`)).json()) as { frameworks: unknown[]; completed_frameworks: Array<{ completed_tasks: unknown[] }> };
    expect(state.frameworks).to.deep.equal([]);
    expect(state.completed_frameworks).to.have.length(1);
    expect(master.calls.some((c) => c.type === 'TEARDOWN' && c.status === 202)).to.equal(true);
    // Offers were suppressed once nothing was wanted.
    expect(master.calls.some((c) => c.type === 'SUPPRESS')).to.equal(true);
  });
});
