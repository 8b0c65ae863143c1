import 'reflect-metadata';
import { expect } from 'chai';
import { asyncScheduler, filter, firstValueFrom, scan, timeout } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { KubernetesBackend } from '@ebbtide/backend-kubernetes';
import { type KubeHandle, backendOptions, localKubernetes, sleeperTemplate } from '../support/kubernetes.js';

/**
 * backend.kubernetes.leaderElection against the real apiserver's coordination.k8s.io Lease:
 * two replicas, exactly one acts; the leader dies (kill -9: it stops renewing, its pods stay);
 * the standby takes the lease once it has gone unrenewed for leaseDuration and adopts the pods.
 */
describe('KubernetesBackend leader election (real control plane)', function () {
  this.timeout(120_000);
  let k: KubeHandle;
  let namespace: string;
  const open: KubernetesBackend[] = [];
  before(async () => {
    k = await localKubernetes();
    namespace = await k.namespace('leader');
  });
  after(async () => {
    for (const b of open) await b.close().catch(() => undefined);
    await k.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('two replicas: one acts, the other waits; the leader dies and the standby takes over its pods', async () => {
    const cluster = `kl${process.pid % 100000}`;
    const options = backendOptions(cluster, {
      kubeconfig: k.kubeconfig,
      namespace,
      podTemplate: sleeperTemplate(),
      leaderElection: { enabled: true, leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' },
    });
    const la = new MemoryLogger();
    const lb = new MemoryLogger();
    const a = new KubernetesBackend({ ...options, leaderElection: { ...options.leaderElection, identity: 'replica-a' } }, la, asyncScheduler);
    const b = new KubernetesBackend({ ...options, leaderElection: { ...options.leaderElection, identity: 'replica-b' } }, lb, asyncScheduler);
    open.push(a, b);

    await a.adopt({ cluster });
    let bLeads = false;
    const bAdopt = b.adopt({ cluster }).then((found) => {
      bLeads = true;
      return found;
    });
    const w = `${cluster}-0`;
    await a.start([{ name: w, scheduler: 'run', nthreads: 1, memoryLimit: 0 }]);
    await firstValueFrom(
      a.status$.pipe(
        scan((v, l) => new Map([...v, ...l.map((s) => [s.name, s] as const)]), new Map<string, BackendWorkerStatus>()),
        filter((v) => v.get(w)?.phase === 'running'),
        timeout(60_000),
      ),
    );
    // The standby is still waiting, and says for whom.
    expect(bLeads, 'the standby acts while the leader renews').to.equal(false);
    expect(lb.records.some((r) => r.fields.event === 'lease.waiting' && r.fields.holder === 'replica-a'), 'the standby logs whom it waits for').to.equal(true);
    const lease = await k.kubectl('-n', namespace, 'get', 'lease', `ebbtide-${cluster}`, '-o', 'jsonpath={.spec.holderIdentity}');
    expect(lease).to.equal('replica-a');
    const uid = (await k.core.readNamespacedPod({ name: w, namespace })).metadata!.uid;

    a.abandon(); // kill -9: no more renewals, no release, the pod stays
    const found = await bAdopt;
    expect(found.map((s) => s.name)).to.deep.equal([w]);
    expect(found[0]!.phase).to.equal('running');
    expect((await k.core.readNamespacedPod({ name: w, namespace })).metadata!.uid, 'the same pod, not a new one').to.equal(uid);
    expect(await k.kubectl('-n', namespace, 'get', 'lease', `ebbtide-${cluster}`, '-o', 'jsonpath={.spec.holderIdentity} {.spec.leaseTransitions}')).to.equal('replica-b 1');
    // The new leader acts: it stops the pod, and closing releases the lease.
    await b.stop([w]);
    await b.close();
    expect((await k.pods(namespace, cluster)).length).to.equal(0);
    expect(await k.kubectl('-n', namespace, 'get', 'lease', `ebbtide-${cluster}`, '-o', 'jsonpath={.spec.holderIdentity}')).to.equal('');
  });
});
