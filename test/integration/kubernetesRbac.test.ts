import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { asyncScheduler, filter, firstValueFrom, scan, timeout } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { KubernetesBackend } from '@ebbtide/backend-kubernetes';
import { kubeconfigText } from '../servers/kubernetes/src/controlPlane.js';
import { ROOT } from '../support/paths.js';
import { backendOptions, localKubernetes, sleeperTemplate } from '../support/kubernetes.js';

/**
 * The RBAC of docs/backends/kubernetes.md is enough, and needed: the backend runs as that
 * ServiceAccount (a real token from the TokenRequest API, RBAC enforced by the real apiserver).
 */
describe('docs/backends/kubernetes.md RBAC on the real apiserver', function () {
  this.timeout(120_000);
  it('the documented ServiceAccount, Role and RoleBinding let the backend start, watch and stop workers; without them it is refused', async () => {
    const k = await localKubernetes();
    const namespace = await k.namespace('rbac');
    const doc = readFileSync(join(ROOT, 'docs', 'backends', 'kubernetes.md'), 'utf8');
    const rbac = /## RBAC\s+```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(rbac, 'the RBAC block of the docs').to.be.a('string');
    const file = join(k.dir, `rbac-${namespace}.yaml`);
    writeFileSync(file, rbac!.replaceAll('namespace: dask', `namespace: ${namespace}`));
    await k.kubectl('apply', '-f', file);
    const token = (await k.kubectl('-n', namespace, 'create', 'token', 'ebbtide')).trim();
    const kubeconfig = join(k.dir, `rbac-${namespace}.kubeconfig`);
    writeFileSync(kubeconfig, kubeconfigText(k.local.cp.server, k.local.cp.ca, token, 'ebbtide'));

    const cluster = `kr${process.pid % 100000}`;
    const b = new KubernetesBackend(backendOptions(cluster, { kubeconfig, namespace, podTemplate: sleeperTemplate(), gracePeriod: '5s' }), new MemoryLogger(), asyncScheduler);
    const view = b.status$.pipe(scan((v, l) => new Map([...v, ...l.map((s) => [s.name, s] as const)]), new Map<string, BackendWorkerStatus>()));
    await b.adopt({ cluster });
    const w = `${cluster}-0`;
    await b.start([{ name: w, scheduler: 'run', nthreads: 1, memoryLimit: 0 }]);
    await firstValueFrom(view.pipe(filter((v) => v.get(w)?.phase === 'running'), timeout(60_000)));
    const gone = firstValueFrom(view.pipe(filter((v) => v.get(w)?.phase === 'exited'), timeout(60_000)));
    await b.stop([w]);
    expect((await gone).get(w)?.failed).to.equal(false);
    await b.close();

    // The same token in another namespace (no RoleBinding there): refused, with the RBAC hint.
    const other = await k.namespace('norbac');
    const c = new KubernetesBackend(backendOptions(`${cluster}b`, { kubeconfig, namespace: other, podTemplate: sleeperTemplate() }), new MemoryLogger(), asyncScheduler);
    const e = await c.adopt({ cluster: `${cluster}b` }).then(() => undefined, (x: unknown) => x as { code?: string; message?: string; hint?: string });
    expect(e?.code, String(e?.message)).to.equal('BACKEND_API');
    expect(e?.message).to.match(/forbidden/);
    expect(e?.hint).to.match(/RBAC/);
    await c.close();
  });
});
