import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { asyncScheduler, filter, firstValueFrom, scan } from 'rxjs';
import { type BackendWorkerStatus, MemoryLogger } from '@ebbtide/core';
import { KubernetesBackend, kubernetesOptions, kubernetesSchema } from '@ebbtide/backend-kubernetes';
import { coreSchema, loadConfig } from '@ebbtide/core';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeconfigText } from '../servers/kubernetes/src/controlPlane.js';
import { FaultProxy, type ProxiedRequest } from '../servers/kubernetes/src/faultProxy.js';
import { startLocalKubernetes } from '../servers/kubernetes/src/local.js';
import { type Figure, figure } from './report.js';

const run = promisify(execFile);
const N = 100;
const SLEEPER = { spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'worker', image: 'unused', command: ['sleep', '3600'], resources: { requests: { cpu: '100m' } } }] } };

async function namespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** "POST pods 100, GET pods?watch 1, ..." from a slice of the proxy's log. */
function callsByKind(log: ProxiedRequest[]): { total: number; text: string; posts: number } {
  const counts = new Map<string, number>();
  for (const r of log) {
    const path = new URL(r.url, 'https://x').pathname.replace(/\/namespaces\/[^/]+/, '').replace(/\/pods\/[^/]+$/, '/pods/NAME').replace(/\/leases\/[^/]+$/, '/leases/NAME');
    const key = `${r.method} ${path}${r.watch ? ' (watch)' : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { total: log.length, text: [...counts].map(([k, v]) => `${v}× ${k}`).join(', '), posts: counts.get('POST /api/v1/pods') ?? 0 };
}

/**
 * The Kubernetes backend on the real local control plane: a scale-up of 100 workers to 100 pods
 * Running (baseline: kubectl creating the same 100 pods and waiting for them Ready, same run,
 * same control plane), and the API calls it took, counted by a pass-through proxy.
 */
export async function kubernetesBenches(log: (f: Figure) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ebbtide-k8s-bench-'));
  const local = await startLocalKubernetes({ dir });
  process.once('exit', () => local.killNow());
  const cp = local.cp;
  const proxy = await FaultProxy.start({ target: cp.server, ca: cp.ca, cert: readFileSync(cp.pki.serverCert), key: readFileSync(cp.pki.serverKey) });
  const proxyKubeconfig = join(dir, 'proxy.kubeconfig');
  writeFileSync(proxyKubeconfig, kubeconfigText(proxy.url, cp.ca, cp.token));
  const kc = new KubeConfig();
  kc.loadFromFile(local.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  try {
    // Baseline: kubectl creates the 100 pods (one request each) and waits until all are Ready.
    await namespace(core, 'bench-kubectl');
    const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: N }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `base-${i}`, labels: { bench: 'base' } }, ...SLEEPER })) };
    writeFileSync(join(dir, 'pods.json'), JSON.stringify(list));
    const kubectl = (...a: string[]) => run('kubectl', ['--kubeconfig', local.kubeconfig, '-n', 'bench-kubectl', ...a], { maxBuffer: 16 << 20 });
    const b0 = performance.now();
    await kubectl('create', '-f', join(dir, 'pods.json'));
    await kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'bench=base', '--timeout=600s');
    const baseMs = performance.now() - b0;
    await kubectl('delete', 'pods', '-l', 'bench=base', '--wait=true');

    await namespace(core, 'bench');
    const { config } = loadConfig([{ owner: 'core', schema: coreSchema }, { owner: 'kubernetes', schema: kubernetesSchema }], {
      env: {},
      preset: { cluster: { name: 'kb' }, backend: { type: 'kubernetes', kubernetes: { kubeconfig: proxyKubeconfig, namespace: 'bench', podTemplate: SLEEPER, gracePeriod: '5s' } } },
    });
    const options = kubernetesOptions(config);
    const backend = new KubernetesBackend(options, new MemoryLogger(), asyncScheduler);
    await backend.adopt({ cluster: 'kb' });
    const names = Array.from({ length: N }, (_, i) => `kb-${i}`);
    const all = (phase: BackendWorkerStatus['phase']) =>
      firstValueFrom(
        backend.status$.pipe(
          scan((v, l) => {
            for (const s of l) v.set(s.name, s.phase);
            return v;
          }, new Map<string, string>()),
          filter((v) => names.every((n) => v.get(n) === phase)),
        ),
      );
    const upFrom = proxy.log.length;
    const running = all('running');
    const t0 = performance.now();
    await backend.start(names.map((name) => ({ name, scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 })));
    const acceptedMs = performance.now() - t0;
    await running;
    const upMs = performance.now() - t0;
    const upCalls = callsByKind(proxy.log.slice(upFrom));
    const batches = Math.ceil(N / options.createBatchSize);
    log(figure(`kubernetes: scale-up to ${N} pods Running`, upMs / 1000, 's', { value: baseMs / 1000, note: `kubectl create -f + wait Ready of the same ${N} pods` }, `creates accepted after ${(acceptedMs / 1000).toFixed(2)} s`));
    log(figure(`kubernetes: API calls per scale-up of ${N}`, upCalls.total, 'requests', { value: N, note: 'one create per pod' }, `${batches} batches of ${options.createBatchSize}, ${options.createConcurrency} in flight: ${upCalls.text}`));

    const downFrom = proxy.log.length;
    const gone = all('exited');
    const d0 = performance.now();
    await backend.stop(names);
    await gone;
    const downMs = performance.now() - d0;
    const downCalls = callsByKind(proxy.log.slice(downFrom));
    log(figure(`kubernetes: scale-down of ${N} pods until gone`, downMs / 1000, 's', undefined, `grace 5s, SIGTERM ends sleep at once: ${downCalls.text}`));
    log(figure(`kubernetes: API calls per scale-down of ${N}`, downCalls.total, 'requests', { value: N, note: 'one delete per pod' }));
    await backend.close();
  } finally {
    await proxy.close();
    await local.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
