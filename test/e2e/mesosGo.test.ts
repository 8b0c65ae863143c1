import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestMaster, buildMesosGo, startTestMaster } from '../support/mesos.js';
import { alive, until } from '../support/processes.js';

/**
 * Keeps the test master honest with a real v1 scheduler client: mesos-go's example-scheduler
 * (github.com/mesos/mesos-go v0.0.11, from the Go module proxy) subscribes, takes offers,
 * launches its tasks, follows their updates and acknowledges them, then exits once all finished.
 */
describe('mesos-go example-scheduler against the Mesos test master', function () {
  this.timeout(600_000);
  let tm: TestMaster | undefined;
  let sched: ChildProcess | undefined;
  let bin: string;

  before(function () {
    // Cached under ~/.cache/ebbtide/mesos-go/<version>; a cold build takes a minute or two.
    bin = buildMesosGo();
  });
  afterEach(async () => {
    if (sched?.pid && alive(sched.pid)) sched.kill('SIGKILL');
    await tm?.stop();
  });

  it('subscribes, accepts an offer, launches its tasks, gets every update and acknowledges each uuid', async () => {
    tm = await startTestMaster({ agents: [{ cpus: 4, mem: 4096 }] });
    const { master } = tm;
    // The example serves this "executor" from its own artifact server; the test master fetches
    // it into each task's sandbox (URI with executable: true) and runs it.
    const executor = join(tm.dir, 'example-executor');
    writeFileSync(executor, '#!/bin/sh\necho "task $MESOS_TASK_ID ran in $MESOS_SANDBOX"\nexit 0\n');
    chmodSync(executor, 0o755);
    const args = ['-url', `${master.url()}/api/v1/scheduler`, '-codec', 'json', '-tasks', '3', '-cpu', '0.5', '-memory', '64', '-exec.cpu', '0.01', '-exec.memory', '16', '-executor', executor, '-server.address', '127.0.0.1', '-metrics.port', '0', '-verbose', '-name', 'mesos-go-example'];
    sched = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    sched.stdout!.on('data', (d) => (log += d));
    sched.stderr!.on('data', (d) => (log += d));
    const exited = new Promise<void>((r) => sched!.once('exit', () => r()));
    await until(() => log.includes('mission accomplished'), 120_000, `the example's "mission accomplished" (log so far:\n${log.slice(-3000)})`);
    await exited;

    const calls = master.calls.filter((c) => c.type !== 'INVALID');
    const subscribe = calls.filter((c) => c.type === 'SUBSCRIBE');
    expect(subscribe, 'SUBSCRIBE calls').to.have.length.at.least(1);
    expect(subscribe[0]!.status).to.equal(200);
    const fid = master.frameworkList[0]?.id ?? calls.find((c) => c.frameworkId)!.frameworkId!;
    // Every later call carried the framework id and the stream id (else 400) and was accepted.
    for (const c of calls.filter((c) => c.type !== 'SUBSCRIBE')) {
      expect(c.status, `${c.type} answered`).to.equal(202);
      expect(c.frameworkId).to.equal(fid);
    }
    const accepts = calls.filter((c) => c.type === 'ACCEPT');
    const launched = accepts.flatMap((c) => c.body!.accept!.operations!.flatMap((op) => op.launch?.task_infos ?? []));
    expect(launched.map((t) => t.task_id.value).sort()).to.deep.equal(['1', '2', '3']);
    expect(launched[0]!.executor?.command?.uris?.[0]?.executable).to.equal(true);

    // STARTING, RUNNING, FINISHED per task, each acknowledged with exactly the uuid the master sent.
    const sentUuids = new Set<string>();
    for (const c of calls.filter((c) => c.type === 'ACKNOWLEDGE')) sentUuids.add(c.body!.acknowledge!.uuid!);
    expect(sentUuids.size, 'distinct uuids acknowledged').to.equal(9);
    for (const id of ['1', '2', '3']) {
      expect(log).to.contain(`Task ${id} is in state TASK_STARTING`);
      expect(log).to.contain(`Task ${id} is in state TASK_RUNNING`);
      expect(log).to.contain(`Task ${id} is in state TASK_FINISHED`);
    }
    // Nothing is waiting for an acknowledgement, and the master's own view agrees.
    const res = await fetch(`${master.url()}/master/tasks?framework_id=${fid}`);
    const tasks = ((await res.json()) as { tasks: Array<{ id: string; state: string }> }).tasks;
    expect(tasks.map((t) => `${t.id}:${t.state}`).sort()).to.deep.equal(['1:TASK_FINISHED', '2:TASK_FINISHED', '3:TASK_FINISHED']);
    for (const t of master.liveTasks()) expect(t.pending, `unacknowledged updates of task ${t.id}`).to.deep.equal([]);
    // The executor really ran, fetched into its sandbox.
    for (const t of master.framework(fid)!.completed) {
      expect(readFileSync(join(t.sandbox, 'stdout'), 'utf8')).to.contain(`task ${t.id} ran in ${t.sandbox}`);
    }
  });

  /** Starts the example against `url` with `tasks` tasks; returns its growing log. */
  function runExample(url: string, executor: string, tasks: number): { log: () => string } {
    const args = ['-url', `${url}/api/v1/scheduler`, '-codec', 'json', '-tasks', String(tasks), '-cpu', '0.5', '-memory', '64', '-exec.cpu', '0.01', '-exec.memory', '16', '-executor', executor, '-server.address', '127.0.0.1', '-metrics.port', '0', '-verbose'];
    sched = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    sched.stdout!.on('data', (d) => (log += d));
    sched.stderr!.on('data', (d) => (log += d));
    return { log: () => log };
  }

  function trivialExecutor(dir: string): string {
    const executor = join(dir, 'example-executor');
    writeFileSync(executor, '#!/bin/sh\nexit 0\n');
    chmodSync(executor, 0o755);
    return executor;
  }

  it('gets updates that were lost on the way re-sent until it acknowledges them', async () => {
    tm = await startTestMaster({ agents: [{ cpus: 4, mem: 4096 }] });
    const { master } = tm;
    master.faults.dropUpdates = 2;
    const run = runExample(master.url(), trivialExecutor(tm.dir), 2);
    await until(() => run.log().includes('mission accomplished'), 120_000, 'the example\'s "mission accomplished"').catch((e: Error) => {
      throw new Error(`${e.message}; its log:\n${run.log().slice(-3000)}`);
    });
    expect(master.faults.dropUpdates, 'both drops happened').to.equal(0);
    const acks = master.calls.filter((c) => c.type === 'ACKNOWLEDGE').map((c) => c.body!.acknowledge!.uuid!);
    expect(new Set(acks).size, 'STARTING, RUNNING, FINISHED of 2 tasks acknowledged').to.equal(6);
  });

  it('follows the 307 of a non-leading master on SUBSCRIBE (its Location has no scheme) to the leader', async () => {
    tm = await startTestMaster({ replicas: 2, agents: [{ cpus: 4, mem: 4096 }] });
    const { master } = tm;
    const subscribed = new Promise<void>((r) => master.once('subscribed', () => r()));
    // mesos-go redirects only SUBSCRIBE: its later calls go to the configured URL again, so the
    // scenario cannot finish through a non-leader (a real master answers those 307 too).
    const run = runExample(master.url(1), trivialExecutor(tm.dir), 1);
    await subscribed;
    const redirect = master.calls.findIndex((c) => c.status === 307 && c.replica === 1);
    const subscribe = master.calls.findIndex((c) => c.type === 'SUBSCRIBE' && c.status === 200);
    expect(redirect, `a 307 from replica 1 (log: ${run.log().slice(-1000)})`).to.be.at.least(0);
    expect(subscribe, 'then SUBSCRIBE at the leader').to.be.greaterThan(redirect);
    expect(master.calls[subscribe]!.replica).to.equal(0);
  });
});
