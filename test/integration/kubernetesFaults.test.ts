import 'reflect-metadata';
import { expect } from 'chai';
import { asyncScheduler, filter, firstValueFrom, scan, timeout } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger, isEbbtideError } from '@ebbtide/core';
import { KubernetesBackend } from '@ebbtide/backend-kubernetes';
import type { FaultProxy } from '../servers/kubernetes/src/faultProxy.js';
import { SIMULATE_ANNOTATION } from '../servers/kubernetes/src/kubelet/ProcessKubelet.js';
import { type KubeHandle, backendOptions, closeProxies, localKubernetes, sleeperTemplate } from '../support/kubernetes.js';

type View = Map<string, BackendWorkerStatus>;

/** Resolves with the accumulated view once `done` holds (status$ events, no sleeping). */
function until(b: KubernetesBackend, what: string, done: (v: View) => boolean, ms = 60_000): Promise<View> {
  return firstValueFrom(
    b.status$.pipe(
      scan((v, list) => {
        for (const s of list) v.set(s.name, s);
        return v;
      }, new Map() as View),
      filter(done),
      timeout({ first: ms, with: () => { throw new Error(`timed out waiting for ${what}`); } }),
    ),
  );
}
const phase = (name: string, p: BackendWorkerStatus['phase']) => (v: View) => v.get(name)?.phase === p;
const spec = (name: string, scheduler = 'run') => ({ name, scheduler, nthreads: 1, memoryLimit: 0 });

/**
 * Every failure mode of issue 10, against the real apiserver: through the fault proxy (lost
 * replies, 429 + Retry-After, 503, dropped watches, 410) or the real thing (a ResourceQuota, a pod
 * the real scheduler cannot place, a process over its memory limit).
 */
describe('KubernetesBackend failure modes (real control plane + fault proxy)', function () {
  this.timeout(300_000);
  let k: KubeHandle;
  let namespace: string;
  let n = 0;
  const open: KubernetesBackend[] = [];

  before(async () => {
    k = await localKubernetes();
    namespace = await k.namespace('faults');
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close().catch(() => undefined);
  });
  after(async () => {
    await closeProxies();
    await k.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  function backend(kubeconfig: string, extra: Record<string, unknown> = {}, ns = namespace) {
    const cluster = `kf${process.pid % 100000}x${n++}`;
    const logger = new MemoryLogger();
    const b = new KubernetesBackend(backendOptions(cluster, { kubeconfig, namespace: ns, podTemplate: sleeperTemplate(), gracePeriod: '5s', ...extra }), logger, asyncScheduler);
    open.push(b);
    return { b, cluster, logger, name: (i: number) => `${cluster}-${i}` };
  }
  const withProxy = async () => k.proxy();
  const posts = (p: FaultProxy, from = 0) => p.requests(from, (r) => r.method === 'POST' && /\/pods(\?|$)/.test(r.url) && !/dryRun/.test(r.url));

  it('a create whose reply was lost is retried and adopts its own pod: no duplicate worker', async () => {
    const { proxy, kubeconfig } = await withProxy();
    const { b, cluster, logger, name } = backend(kubeconfig);
    await b.adopt({ cluster });
    const mark = proxy.log.length;
    proxy.add({ method: 'POST', path: `/namespaces/${namespace}/pods$`, action: { kind: 'drop-reply' } });
    await b.start([spec(name(0))]);
    await until(b, 'the worker to run', phase(name(0), 'running'));
    expect(posts(proxy, mark).length, 'the create was sent twice').to.equal(2);
    expect(posts(proxy, mark)[0]!.fault).to.equal('drop-reply');
    expect(logger.records.some((r) => r.fields.event === 'pod.create-adopted'), 'the 409 AlreadyExists was adopted').to.equal(true);
    const pods = await k.pods(namespace, cluster);
    expect(pods.map((p) => p.metadata!.name)).to.deep.equal([name(0)]);
    expect(k.local.kubelet.pids(namespace, name(0)).length, 'worker processes running for the pod').to.equal(1);
  });

  it('honours Retry-After on 429 and backs off on 503, then creates the pod', async () => {
    const { proxy, kubeconfig } = await withProxy();
    const { b, cluster, logger, name } = backend(kubeconfig);
    await b.adopt({ cluster });
    const mark = proxy.log.length;
    proxy.add({ method: 'POST', path: `/namespaces/${namespace}/pods$`, action: { kind: 'status', status: 429, retryAfter: 2 } });
    proxy.add({ method: 'POST', path: `/namespaces/${namespace}/pods$`, action: { kind: 'status', status: 503 } });
    await b.start([spec(name(0))]);
    await until(b, 'the worker to run', phase(name(0), 'running'));
    const sent = posts(proxy, mark);
    expect(sent.map((r) => r.status)).to.deep.equal([429, 503, 201]);
    expect(sent[1]!.at - sent[0]!.at, 'ms between the 429 and the next try').to.be.at.least(2000);
    const retries = logger.records.filter((r) => r.fields.event === 'api.retry').map((r) => r.fields);
    expect(retries[0]).to.include({ status: 429, delayMs: 2000, retryAfter: true });
    expect(retries[1]).to.include({ status: 503, retryAfter: false });
  });

  it('keeps track of its pods across dropped watch streams and a 410 Gone', async () => {
    const { proxy, kubeconfig } = await withProxy();
    const { b, cluster, name } = backend(kubeconfig);
    await b.adopt({ cluster });
    await b.start([spec(name(0)), spec(name(1))]);
    await until(b, 'both workers to run', (v) => phase(name(0), 'running')(v) && phase(name(1), 'running')(v));
    const watchesBefore = b.informerStats!.watches;
    expect(proxy.dropWatches(), 'open watch streams cut').to.be.greaterThan(0);
    // The pod goes while the stream is down; the informer resumes from its resourceVersion and sees it.
    const gone = until(b, `${name(0)} to be reported gone`, phase(name(0), 'exited'));
    await k.core.deleteNamespacedPod({ name: name(0), namespace, gracePeriodSeconds: 0 });
    const v = await gone;
    expect(v.get(name(0))).to.include({ failed: true });
    expect(b.informerStats!.watches).to.be.greaterThan(watchesBefore);

    // Next: the watch is answered with 410 (resourceVersion too old): the informer lists again.
    const listsBefore = b.informerStats!.lists;
    proxy.add({ watch: true, path: `/namespaces/${namespace}/pods`, action: { kind: 'gone' } });
    proxy.dropWatches();
    await b.start([spec(name(2))]);
    await until(b, `${name(2)} to run after the 410`, phase(name(2), 'running'));
    expect(b.informerStats!.gone).to.equal(1);
    expect(b.informerStats!.lists).to.be.greaterThan(listsBefore);
    // Still in charge of everything: stop works on all of them.
    const stopped = until(b, 'both to exit', (x) => phase(name(1), 'exited')(x) && phase(name(2), 'exited')(x));
    await b.stop([name(1), name(2)]);
    const end = await stopped;
    expect(end.get(name(1))?.failed).to.equal(false);
    expect(await k.pods(namespace, cluster)).to.deep.equal([]);
  });

  it('reports a real ResourceQuota refusal as capacity, and survives it', async () => {
    const ns = await k.namespace('quota');
    await k.core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: 'pods' }, spec: { hard: { pods: '2' } } } });
    // The quota controller fills in status.used; until then admission refuses every pod.
    for (let i = 0; !(await k.core.readNamespacedResourceQuota({ name: 'pods', namespace: ns })).status?.used; i++) {
      if (i > 300) throw new Error('quota status never computed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { b, cluster, name } = backend(k.kubeconfig, {}, ns);
    await b.adopt({ cluster });
    await b.start([spec(name(0)), spec(name(1)), spec(name(2))]);
    // The three creates run concurrently: which one the quota refuses is the apiserver's call.
    const ws = [name(0), name(1), name(2)];
    const settled = (x: View) => ws.every((w) => ['running', 'exited'].includes(x.get(w)?.phase ?? ''));
    const v = await until(b, 'two running, one refused', settled);
    const refusedOne = ws.filter((w) => v.get(w)!.phase === 'exited');
    expect(refusedOne.length, JSON.stringify([...v.values()])).to.equal(1);
    expect(v.get(refusedOne[0]!)).to.include({ failed: true, capacity: true });
    expect(v.get(refusedOne[0]!)!.reason).to.match(/exceeded quota/);
    const runningOnes = ws.filter((w) => v.get(w)!.phase === 'running');
    const refused = await b.start([spec(name(3))]).then(() => undefined, (e: unknown) => e);
    expect(isEbbtideError(refused) && refused.code, String(refused)).to.equal('BACKEND_CAPACITY');
    // Room again once a worker goes (the quota controller recomputes usage): the next start works.
    await b.stop([runningOnes[0]!]);
    await until(b, `${runningOnes[0]} to go`, phase(runningOnes[0]!, 'exited'));
    for (let i = 0; ; i++) {
      const q = await k.core.readNamespacedResourceQuota({ name: 'pods', namespace: ns });
      if (q.status?.used?.pods === '1') break;
      if (i > 300) throw new Error(`quota usage not recomputed: ${JSON.stringify(q.status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await b.start([spec(name(4))]);
    await until(b, `${name(4)} to run`, phase(name(4), 'running'));
    await b.close();
    await k.core.deleteNamespace({ name: ns });
  });

  it('deletes a pod the scheduler cannot place (too much CPU) at its pending deadline and reports capacity', async () => {
    const template = sleeperTemplate() as { spec: { containers: Array<{ resources: unknown }> } };
    template.spec.containers[0]!.resources = { requests: { cpu: '100000' } };
    const { b, cluster, name } = backend(k.kubeconfig, { podTemplate: template, pendingDeadline: '3s' });
    await b.adopt({ cluster });
    const pending = until(b, 'the pod to be unschedulable', (v) => /Unschedulable/.test(v.get(name(0))?.reason ?? ''));
    await b.start([spec(name(0))]);
    expect((await pending).get(name(0))!.reason).to.match(/Insufficient cpu/);
    const v = await until(b, 'the deadline', phase(name(0), 'exited'));
    expect(v.get(name(0))).to.include({ failed: true, capacity: true });
    expect(v.get(name(0))!.reason).to.match(/^pending past its 3s deadline: Unschedulable/);
    for (let i = 0; (await k.pods(namespace, cluster)).length > 0; i++) {
      if (i > 100) throw new Error('the stuck pod was not deleted');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('reports a worker killed for memory as OOMKilled, cleans it up, and the name starts again', async () => {
    const template = {
      spec: {
        containers: [
          {
            name: 'worker',
            image: 'unused',
            command: ['sh', '-c', 'if [ "{scheduler}" = hog ]; then exec node -e "globalThis.b = Buffer.alloc(400 * 1024 * 1024, 1); setInterval(() => {}, 1000)"; fi; trap "exit 0" TERM; while :; do sleep 0.2; done'],
            resources: { limits: { memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          },
        ],
      },
    };
    const { b, cluster, name } = backend(k.kubeconfig, { podTemplate: template });
    await b.adopt({ cluster });
    await b.start([spec(name(0), 'hog')]);
    const v = await until(b, 'the OOM kill', phase(name(0), 'exited'));
    expect(v.get(name(0))).to.include({ failed: true, exitCode: 137 });
    expect(v.get(name(0))!.reason).to.match(/^OOMKilled/);
    // The replacement: the same name again (the failed pod was removed to make room for it).
    await b.start([spec(name(0))]);
    await until(b, 'the replacement to run', (x) => x.get(name(0))?.phase === 'running');
    expect((await k.pods(namespace, cluster)).map((p) => p.status?.phase)).to.deep.equal(['Running']);
  });

  it('reports an eviction with its reason (kubelet-simulated)', async () => {
    const { b, cluster, name } = backend(k.kubeconfig);
    await b.adopt({ cluster });
    await b.start([spec(name(0))]);
    await until(b, 'the worker to run', phase(name(0), 'running'));
    await k.kubectl('-n', namespace, 'annotate', 'pod', name(0), `${SIMULATE_ANNOTATION}=Evicted`);
    const v = await until(b, 'the eviction', phase(name(0), 'exited'));
    expect(v.get(name(0))).to.include({ failed: true });
    expect(v.get(name(0))!.reason).to.match(/^Evicted: The node was low on resource: memory/);
  });

  it('refuses an invalid pod template at start with the API\'s own message (server-side dry run)', async () => {
    const bad = { spec: { containers: [{ name: 'Worker_1', image: 'x', command: ['true'] }] } };
    const { b, cluster } = backend(k.kubeconfig, { podTemplate: bad });
    const e = await b.adopt({ cluster }).then(() => undefined, (x: unknown) => x);
    expect(isEbbtideError(e) && e.code, String(e)).to.equal('CONFIG_INVALID');
    expect(String((e as Error).message)).to.match(/backend\.kubernetes\.podTemplate: the API rejected the worker pod.*spec\.containers\[0\]\.name/);
    const typo = { spec: { containers: [{ name: 'w', image: 'x', command: ['true'], resorces: {} }] } };
    const t = backend(k.kubeconfig, { podTemplate: typo });
    const e2 = await t.b.adopt({ cluster: t.cluster }).then(() => undefined, (x: unknown) => x);
    expect(String((e2 as Error).message)).to.match(/unknown field "spec\.containers\[0\]\.resorces"/);
  });
});
