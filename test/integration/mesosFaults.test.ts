import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendWorkerStatus } from '@ebbtide/core';
import type { MesosBackend, MesosBackendOptions } from '@ebbtide/backend-mesos';
import type { MesosMasterOptions } from '../servers/mesos/index.js';
import { type TestMaster, liveTaskCounts, makeMesosBackend, mesosTestOptions, sleeperSpec, startTestMaster, taskAlive } from '../support/mesos.js';
import { until } from '../support/processes.js';

/** Every status the backend emitted, per worker, in order. */
function record(b: MesosBackend): Map<string, BackendWorkerStatus[]> {
  const seen = new Map<string, BackendWorkerStatus[]>();
  b.status$.subscribe((list) => {
    for (const s of list) {
      const l = seen.get(s.name) ?? [];
      const last = l[l.length - 1];
      if (!last || last.phase !== s.phase || last.reason !== s.reason) l.push(s);
      seen.set(s.name, l);
    }
  });
  return seen;
}

const phases = (seen: Map<string, BackendWorkerStatus[]>, name: string) => (seen.get(name) ?? []).map((s) => s.phase);

describe('Mesos backend faults (test master)', function () {
  this.timeout(120_000);
  let tm: TestMaster;
  let backends: MesosBackend[] = [];
  let n = 0;

  async function setup(masterOptions: Partial<MesosMasterOptions> = {}, overrides: Partial<MesosBackendOptions> = {}, url?: (tm: TestMaster) => string) {
    tm = await startTestMaster(masterOptions);
    const cluster = `f${process.pid}x${n++}`;
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-faults-'));
    const make = (more: Partial<MesosBackendOptions> = {}) => {
      const b = makeMesosBackend(mesosTestOptions(url ? url(tm) : tm.master.url(), stateDir, { cluster, ...overrides, ...more }));
      backends.push(b);
      return b;
    };
    const b = make();
    const seen = record(b);
    await b.adopt({ cluster });
    return { b, seen, cluster, make, master: tm.master };
  }

  afterEach(async () => {
    for (const b of backends) await b.close().catch(() => undefined);
    backends = [];
    await tm?.stop();
  });

  const running = (seen: Map<string, BackendWorkerStatus[]>, name: string) => phases(seen, name).at(-1) === 'running';
  const calls = (tm: TestMaster, type: string) => tm.master.calls.filter((c) => c.type === type);

  it('an offer rescinded before its ACCEPT: the launch comes back TASK_DROPPED and the worker is launched again, once', async () => {
    const { b, seen, cluster, master } = await setup();
    master.faults.rescindOffers = 1;
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    expect(master.faults.rescindOffers).to.equal(0);
    expect(calls(tm, 'ACCEPT').length, 'two ACCEPTs: the void one and the relaunch').to.equal(2);
    expect(phases(seen, w), 'never reported exited').to.not.include('exited');
    expect(liveTaskCounts(master).get(w)).to.equal(1);
  });

  it('status updates lost on the way are re-sent by the master until acknowledged', async () => {
    const { b, seen, cluster, master } = await setup();
    master.faults.dropUpdates = 2;
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    await until(() => master.liveTasks().find((t) => t.id === w)?.pending.length === 0, 10_000, 'every update of the task acknowledged');
    const acked = calls(tm, 'ACKNOWLEDGE').filter((c) => c.body!.acknowledge!.task_id!.value === w).map((c) => c.body!.acknowledge!.uuid);
    expect(new Set(acked).size, 'STARTING and RUNNING acknowledged').to.equal(2);
  });

  it('missed heartbeats on a stalled stream: it resubscribes as the same framework and keeps its worker', async () => {
    const { b, seen, cluster, master } = await setup();
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    const pid = master.liveTasks().find((t) => t.id === w)!.proc!.pid;
    const fid = b.frameworkId;
    master.stallStreams();
    // 5 heartbeats of 1 s without a word, then a new subscription.
    await until(() => calls(tm, 'SUBSCRIBE').length === 2 && master.framework(fid!)?.stream !== undefined, 30_000, 'a second subscription');
    const resub = calls(tm, 'SUBSCRIBE')[1]!;
    expect(resub.body!.framework_id?.value).to.equal(fid);
    await until(() => calls(tm, 'RECONCILE').some((c) => c.at >= resub.at), 10_000, 'a RECONCILE after resubscribing');
    expect(master.liveTasks().find((t) => t.id === w)!.proc!.pid, 'the same process').to.equal(pid);
    expect(phases(seen, w)).to.not.include('exited');
    expect(calls(tm, 'SUBSCRIBE').length, 'no tight retry loop').to.equal(2);
  });

  it('a dropped stream: it resubscribes after a backoff, reconciles explicitly and implicitly, and stop still works', async () => {
    const { b, seen, cluster, master } = await setup();
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    master.dropStreams();
    await until(() => calls(tm, 'SUBSCRIBE').length === 2 && b.frameworkId !== undefined && master.framework(b.frameworkId)?.stream !== undefined, 30_000, 'resubscribed');
    const since = calls(tm, 'SUBSCRIBE')[1]!.at;
    await until(() => calls(tm, 'RECONCILE').filter((c) => c.at >= since).length >= 2, 10_000, 'two RECONCILEs');
    const [explicit, implicit] = calls(tm, 'RECONCILE').filter((c) => c.at >= since);
    expect(explicit!.body!.reconcile!.tasks!.map((t) => t.task_id!.value)).to.deep.equal([w]);
    expect(implicit!.body!.reconcile!.tasks).to.deep.equal([]);
    await b.stop([w]);
    expect(taskAlive(master, w)).to.equal(false);
    expect(phases(seen, w)).to.deep.equal(['pending', 'running', 'stopping', 'exited']);
  });

  it('master failover: the stream drops, the old leader answers 307, and it resubscribes at the new leader with its framework and tasks', async () => {
    const { b, seen, cluster, master } = await setup({ replicas: 2 });
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    const fid = b.frameworkId;
    const oldMaster = master.id;
    master.failover();
    await until(() => master.framework(fid!)?.stream?.replica === 1, 30_000, 'subscribed at replica 1');
    expect(master.id).to.not.equal(oldMaster);
    expect(master.calls.some((c) => c.status === 307 && c.replica === 0), 'the old leader redirected').to.equal(true);
    expect(phases(seen, w)).to.not.include('exited');
    await b.stop([w]);
    expect(calls(tm, 'KILL').at(-1)!.replica, 'KILL went to the new leader').to.equal(1);
    expect(taskAlive(master, w)).to.equal(false);
  });

  it('503 while the master recovers: it retries with growing gaps (no tight loop), then subscribes', async () => {
    const { b, master } = await setup();
    master.setUnavailable(true);
    master.dropStreams();
    await until(() => master.calls.filter((c) => c.status === 503).length >= 3, 30_000, 'three refused attempts');
    master.setUnavailable(false);
    await until(() => master.framework(b.frameworkId!)?.stream !== undefined, 30_000, 'subscribed again');
    const refused = master.calls.filter((c) => c.status === 503).map((c) => c.at);
    const gaps = refused.slice(1).map((t, i) => t - refused[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i], `gap ${i} (${gaps.join(', ')} ms) grows`).to.be.greaterThan(gaps[i - 1]!);
  });

  it('agent lost: its worker is reported failed and gone, and new workers run on the other agent', async () => {
    const { b, seen, cluster, master } = await setup({ agents: [{ cpus: 1, mem: 2048 }, { cpus: 1, mem: 2048 }] });
    const [w0, w1] = [`${cluster}-0`, `${cluster}-1`];
    await b.start([sleeperSpec(w0), sleeperSpec(w1)]);
    await until(() => running(seen, w0) && running(seen, w1), 30_000, 'both running');
    const agent = master.liveTasks().find((t) => t.id === w0)!.agentId;
    master.removeAgent(agent);
    await until(() => phases(seen, w0).at(-1) === 'exited', 10_000, `${w0} reported exited`);
    const last = seen.get(w0)!.at(-1)!;
    expect(last.failed).to.equal(true);
    expect(last.reason).to.match(/unreachable/i);
    expect(taskAlive(master, w0)).to.equal(false);
    const w2 = `${cluster}-2`;
    await b.start([sleeperSpec(w2)]);
    const other = master.agentIds()[0]!;
    // w1's agent, if it survived, is full; a worker on the lost agent would be a ghost.
    await until(() => running(seen, w2) || master.liveTasks().some((t) => t.id === w2), 30_000, `${w2} launched`);
    expect(master.liveTasks().find((t) => t.id === w2)!.agentId).to.equal(other);
    expect(phases(seen, w0).filter((p) => p === 'exited'), 'reported once').to.have.length(1);
  });

  it('starvation: a worker no offer fits is failed for capacity after the pending deadline, and offers are suppressed', async () => {
    const { b, seen, cluster } = await setup({}, { cpus: 64, pendingTimeout: 1 });
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => phases(seen, w).at(-1) === 'exited', 20_000, `${w} given up`);
    const last = seen.get(w)!.at(-1)!;
    expect(last).to.include({ failed: true, capacity: true });
    expect(last.reason).to.match(/no Mesos offer fit cpus=64 .*largest offer seen had cpus=8/);
    await until(() => calls(tm, 'SUPPRESS').some((c) => c.at > 0) && tm.master.framework(b.frameworkId!)!.suppressed, 10_000, 'offers suppressed');
    expect(calls(tm, 'ACCEPT')).to.have.length(0);
  });

  it('SUPPRESS when nothing is wanted, REVIVE when workers are queued again', async () => {
    const { b, seen, cluster, master } = await setup();
    await until(() => master.framework(b.frameworkId!)!.suppressed, 10_000, 'suppressed while idle');
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    const revive = calls(tm, 'REVIVE');
    expect(revive.length).to.be.at.least(1);
    await until(() => master.framework(b.frameworkId!)!.suppressed, 10_000, 'suppressed again once launched');
    expect(calls(tm, 'SUPPRESS').at(-1)!.at).to.be.greaterThan(revive[0]!.at);
  });

  it('KILL answered 403: it resubscribes and the KILL is sent again, so the worker is stopped', async () => {
    const { b, seen, cluster, master } = await setup();
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    master.faults.failCalls.push({ type: 'KILL', status: 403, count: 1 });
    await b.stop([w]);
    expect(taskAlive(master, w)).to.equal(false);
    expect(calls(tm, 'KILL').map((c) => c.status)).to.deep.equal([403, 202]);
    expect(calls(tm, 'SUBSCRIBE')).to.have.length(2);
    expect(seen.get(w)!.at(-1)).to.include({ phase: 'exited', failed: false });
  });

  it('ACCEPT answered 400: nothing was launched, so the worker waits for the next offer and is launched then', async () => {
    const { b, seen, cluster, master } = await setup();
    master.faults.failCalls.push({ type: 'ACCEPT', status: 400, count: 1 });
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    expect(calls(tm, 'ACCEPT').map((c) => c.status)).to.deep.equal([400, 202]);
    expect(liveTaskCounts(master).get(w)).to.equal(1);
  });

  it('an ERROR event: it resubscribes as the same framework', async () => {
    const { b, master } = await setup();
    const fid = b.frameworkId!;
    master.sendError(fid, 'Framework is not authorized to receive offers for role');
    await until(() => calls(tm, 'SUBSCRIBE').length === 2 && master.framework(fid)?.stream !== undefined, 30_000, 'resubscribed');
    expect(calls(tm, 'SUBSCRIBE')[1]!.body!.framework_id!.value).to.equal(fid);
  });

  it('failover_timeout: tasks outlive a disconnect for that long; after it the master removes the framework, and the next backend starts a new one', async () => {
    const { b, seen, cluster, make, master } = await setup({}, { failoverTimeout: 1 });
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    const fid = b.frameworkId!;
    const removed = new Promise<string>((r) => master.once('removed', (id: string, why: string) => r(`${id} ${why}`)));
    await b.close({ keep: true });
    expect(taskAlive(master, w), 'still running right after the disconnect').to.equal(true);
    expect(await removed).to.equal(`${fid} failover timeout`);
    await until(() => !taskAlive(master, w), 10_000, 'the master to kill the task');
    const next = make();
    const adopted = await next.adopt({ cluster });
    expect(adopted).to.deep.equal([]);
    expect(next.frameworkId).to.not.equal(fid);
    expect(next.stateFile!.read()!.frameworkId).to.equal(next.frameworkId);
  });

  it('restart within failover_timeout: close({ keep }) then a new backend re-subscribes with the same framework id and adopts the task', async () => {
    const { b, seen, cluster, make, master } = await setup();
    const w = `${cluster}-0`;
    await b.start([sleeperSpec(w)]);
    await until(() => running(seen, w), 30_000, `${w} running`);
    const fid = b.frameworkId!;
    const pid = master.liveTasks().find((t) => t.id === w)!.proc!.pid;
    await b.close({ keep: true });
    const next = make();
    const adopted = await next.adopt({ cluster });
    expect(next.frameworkId).to.equal(fid);
    expect(adopted.map((s) => [s.name, s.phase])).to.deep.equal([[w, 'running']]);
    // Starting the adopted name again is a no-op: no second task.
    await next.start([sleeperSpec(w)]);
    expect(calls(tm, 'ACCEPT')).to.have.length(1);
    expect(master.liveTasks().find((t) => t.id === w)!.proc!.pid).to.equal(pid);
    await next.close();
    expect(taskAlive(master, w)).to.equal(false);
    expect(master.calls.at(-1)!.type).to.equal('TEARDOWN');
  });

  it('a master that accepts the connection but never answers SUBSCRIBE: adopt fails with a clear error instead of hanging', async () => {
    tm = await startTestMaster();
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-mesos-faults-'));
      const b = makeMesosBackend(mesosTestOptions(url, stateDir, { cluster: `hang${process.pid}`, requestTimeout: 1 }));
      backends.push(b);
      const err = await b.adopt({ cluster: `hang${process.pid}` }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/cannot reach the Mesos master .*no answer within 1000 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('stop of retired workers: they get the grace period to end on their own, and only one that does not is killed', async () => {
    const { b, seen, cluster, master } = await setup({}, { gracePeriod: 1 });
    const [w0, w1] = [`${cluster}-0`, `${cluster}-1`];
    await b.start([sleeperSpec(w0), sleeperSpec(w1)]);
    await until(() => running(seen, w0) && running(seen, w1), 30_000, 'both running');
    // w0 "closes on the scheduler's request": it ends by itself right after the stop.
    const stopped = b.stop([w0, w1], { retired: true });
    master.signalTask(w0, 'SIGTERM');
    await stopped;
    expect(calls(tm, 'KILL').map((c) => c.body!.kill!.task_id!.value), 'only the one that stayed').to.deep.equal([w1]);
    expect(seen.get(w0)!.at(-1)).to.include({ phase: 'exited', failed: false });
    expect(seen.get(w1)!.at(-1)).to.include({ phase: 'exited', failed: false });
    expect(taskAlive(master, w0) || taskAlive(master, w1)).to.equal(false);
  });

  it('tasks left for another scheduler (an embedded one that died with its ebbtide) are killed, not adopted', async () => {
    const { b, cluster, make, master } = await setup();
    await b.close();
    const first = make();
    const firstSeen = new Map<string, BackendWorkerStatus[]>();
    first.status$.subscribe((l) => l.forEach((st) => firstSeen.set(st.name, [...(firstSeen.get(st.name) ?? []), st])));
    await first.adopt({ cluster, scheduler: 'tcp://127.0.0.1:1111' });
    const w = `${cluster}-0`;
    await first.start([{ ...sleeperSpec(w), scheduler: 'tcp://127.0.0.1:1111' }]);
    await until(() => firstSeen.get(w)?.at(-1)?.phase === 'running', 30_000, `${w} running`);
    await first.close({ keep: true });
    const next = make();
    expect(await next.adopt({ cluster, scheduler: 'tcp://127.0.0.1:2222' })).to.deep.equal([]);
    await until(() => !taskAlive(master, w), 10_000, `${w} killed`);
    expect(calls(tm, 'KILL').map((c) => c.body!.kill!.task_id!.value)).to.include(w);
    expect(next.stateFile!.read()!.scheduler).to.equal('tcp://127.0.0.1:2222');
  });
});
