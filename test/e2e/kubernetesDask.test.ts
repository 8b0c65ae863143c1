import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DASK_2022, type DaskScheduler, PythonClient, requireDask, startDaskScheduler } from '../support/dask.js';
import { type KubeHandle, localKubernetes } from '../support/kubernetes.js';
import { FIXTURES } from '../support/paths.js';
import { until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';

const SOAK_CLIENT = join(FIXTURES, 'dask', 'soak_client.py');

function registrations(scheduler: DaskScheduler): { names: string[]; duplicates: number } {
  const log = scheduler.log();
  return {
    names: [...log.matchAll(/Register worker <WorkerState '[^']+', name: ([^,]+),/g)].map((m) => m[1]!),
    duplicates: (log.match(/duplicate name/g) ?? []).length,
  };
}

/**
 * `ebbtide up` with a real Dask scheduler (Debian's python3-distributed) and the Kubernetes
 * backend on the real local control plane: every worker is a pod whose container runs
 * `python3 -m distributed.cli.dask_worker`, started by the process kubelet.
 */
describe('e2e: real dask worker pods on a real Kubernetes control plane', function () {
  this.timeout(600_000);
  let k: KubeHandle;
  let namespace: string;
  let scheduler: DaskScheduler;
  let dir: string;
  const ups: EbbtideProcess[] = [];

  before(async () => {
    requireDask(DASK_2022);
    k = await localKubernetes();
    namespace = await k.namespace('dask');
  });
  beforeEach(async () => {
    scheduler = await startDaskScheduler(0, DASK_2022);
    dir = mkdtempSync(join(tmpdir(), 'ebbtide-k8s-dask-'));
  });
  afterEach(async () => {
    for (const u of ups.splice(0)) u.kill('SIGKILL');
    await k.core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await scheduler.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (cluster: string, adaptive: string) => {
    const file = join(dir, `${cluster}.yaml`);
    writeFileSync(
      file,
      [
        `cluster: { name: ${cluster}, memoryLimit: 500MB }`,
        `scheduler: { type: dask, address: "${scheduler.address}" }`,
        `adaptive: { interval: 500ms, targetDuration: 1s, ${adaptive} }`,
        'backend:',
        '  type: kubernetes',
        '  kubernetes:',
        `    kubeconfig: ${k.kubeconfig}`,
        `    namespace: ${namespace}`,
        '    gracePeriod: 10s',
        '    leaderElection: { leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }',
        '    podTemplate:',
        '      spec:',
        '        containers:',
        '        - name: worker',
        '          image: ghcr.io/dask/dask:2022.12.1',
        `          command: [${DASK_2022.python}, -m, distributed.cli.dask_worker, "{scheduler}", --name, "{name}", --nthreads, "1", --memory-limit, "{memoryLimit}", --no-nanny, --host, 127.0.0.1, --no-dashboard, --local-directory, ${dir}]`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const up = (file: string) => {
    const p = EbbtideProcess.start(['up', '-c', file]);
    ups.push(p);
    return p;
  };
  const podUids = async (cluster: string) =>
    Object.fromEntries((await k.pods(namespace, cluster)).filter((p) => !p.metadata?.deletionTimestamp).map((p) => [p.metadata!.name!, p.metadata!.uid!]));

  it('scales dask worker pods up for a burst and back to 0, retiring before deleting, none duplicated', async () => {
    const cluster = 'kdask';
    const p = up(config(cluster, 'minimum: 0, maximum: 3'));
    await p.waitForStdout(/ebbtide up: cluster kdask/);
    const client = PythonClient.start(SOAK_CLIENT, scheduler.address, DASK_2022);
    try {
      await client.line('ready');
      client.send('burst b 24 1 0');
      await until(() => registrations(scheduler).names.length >= 2, 120_000, 'two dask workers from pods');
      const running = (await k.kubectl('-n', namespace, 'get', 'pods', '-l', `ebbtide.io/cluster=${cluster}`, '-o', 'jsonpath={.items[*].status.phase}')).split(' ');
      expect(running.filter((s) => s === 'Running').length, 'pods kubectl shows Running').to.be.greaterThan(1);
      await client.line('burst-done b', 180_000);
    } finally {
      client.send('exit');
      client.kill();
    }
    await p.waitForStatus(/workers=0 /, 120_000);
    await until(async () => (await k.pods(namespace, cluster)).length === 0, 60_000, 'the worker pods to be deleted');
    const reg = registrations(scheduler);
    expect(reg.duplicates).to.equal(0);
    for (const n of reg.names) expect(n).to.match(/^kdask-\d+$/);
    // Every pod that connected was retired through the Dask scheduler (retire_workers) before
    // it was deleted (one that never connected is cancelled without retirement, as in Dask).
    const logs = p.logs();
    const retiredAt = new Map<string, number>();
    logs.forEach((l, i) => {
      if (l.event !== 'scheduler.retire') return;
      for (const o of (l.outcomes as Array<{ name: string; status: string }>) ?? []) if (o.status === 'retired' && !retiredAt.has(o.name)) retiredAt.set(o.name, i);
    });
    const exits = logs.map((l, i) => ({ l, i })).filter(({ l }) => l.event === 'worker.exited');
    expect(exits.length, 'worker pods that went away').to.be.greaterThan(1);
    for (const { l, i } of exits) {
      const w = l.worker as string;
      expect(l.failed, `${w}: ${String(l.reason)}`).to.equal(false);
      if (reg.names.includes(w)) expect(retiredAt.get(w) ?? Infinity, `${w} deleted before the scheduler retired it`).to.be.lessThan(i);
    }
    p.kill('SIGTERM');
    expect((await p.exited).code).to.equal(0);
  });

  it('after a kill -9 of ebbtide, the next one adopts the same pods: none duplicated, none orphaned', async () => {
    const cluster = 'kadopt';
    const file = config(cluster, 'minimum: 2, maximum: 2');
    const first = up(file);
    await until(() => registrations(scheduler).names.length >= 2, 120_000, 'two dask workers from pods');
    await first.waitForStatus(/workers=2 /, 60_000);
    const before = await podUids(cluster);
    expect(Object.keys(before)).to.have.length(2);
    first.kill('SIGKILL');
    await first.exited;

    const second = up(file);
    await second.waitForStdout(/adopted 2 existing worker\(s\) of cluster kadopt/, 60_000, 'the adoption line');
    await second.waitForStatus(/workers=2 /, 60_000);
    expect(await podUids(cluster), 'the same pods (same uids), no new one').to.deep.equal(before);
    const reg = registrations(scheduler);
    expect(reg.duplicates).to.equal(0);
    expect([...new Set(reg.names)].sort()).to.deep.equal(Object.keys(before).sort());
    expect(second.events('scale.up')).to.deep.equal([]);
    second.kill('SIGTERM');
    expect((await second.exited).code).to.equal(0);
    await until(async () => (await k.pods(namespace, cluster)).length === 0, 60_000, 'the adopted pods to be deleted on shutdown');
  });
});
