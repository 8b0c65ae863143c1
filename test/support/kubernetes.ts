import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { coreSchema, loadConfig } from '@ebbtide/core';
import { type KubernetesBackendOptions, kubernetesOptions, kubernetesSchema } from '@ebbtide/backend-kubernetes';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { kubeconfigText } from '../servers/kubernetes/src/controlPlane.js';
import { FaultProxy } from '../servers/kubernetes/src/faultProxy.js';
import { type LocalKubernetes, startLocalKubernetes } from '../servers/kubernetes/src/local.js';

const run = promisify(execFile);

export interface KubeHandle {
  local: LocalKubernetes;
  kubeconfig: string;
  dir: string;
  kc: KubeConfig;
  core: CoreV1Api;
  /** Runs kubectl against the control plane (an independent client); resolves with stdout. */
  kubectl(...args: string[]): Promise<string>;
  /** A fresh namespace with its default ServiceAccount ready (pods can be created at once). */
  namespace(prefix: string): Promise<string>;
  /** A fault proxy in front of the apiserver and a kubeconfig that goes through it. */
  proxy(): Promise<{ proxy: FaultProxy; kubeconfig: string }>;
  /** Pods of a cluster (by label), straight from the API. */
  pods(namespace: string, cluster: string): Promise<V1Pod[]>;
}

let shared: Promise<KubeHandle> | undefined;
const proxies: FaultProxy[] = [];

/**
 * The real local control plane (test/servers/kubernetes), started once per test process and
 * shared by every Kubernetes test file; stopped (pods included) when the process exits.
 * Builds the binaries first if the cache is cold (CI builds them before the tests).
 */
export function localKubernetes(): Promise<KubeHandle> {
  shared ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebbtide-k8s-'));
    const local = await startLocalKubernetes({ dir });
    process.once('exit', () => local.killNow());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        local.killNow();
        process.exit(130);
      });
    }
    const kc = new KubeConfig();
    kc.loadFromFile(local.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    let nsCount = 0;
    const h: KubeHandle = {
      local,
      kubeconfig: local.kubeconfig,
      dir,
      kc,
      core,
      kubectl: async (...args) => (await run('kubectl', ['--kubeconfig', local.kubeconfig, ...args], { encoding: 'utf8' })).stdout,
      namespace: async (prefix) => {
        const name = `${prefix}-${process.pid}-${nsCount++}`;
        await core.createNamespace({ body: { metadata: { name } } });
        for (let i = 0; ; i++) {
          try {
            await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
            return name;
          } catch (e) {
            if (i > 200) throw new Error(`namespace ${name}: no default ServiceAccount after 20 s (${String(e)})`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      },
      proxy: async () => {
        const cp = local.cp;
        const proxy = await FaultProxy.start({ target: cp.server, ca: cp.ca, cert: readFileSync(cp.pki.serverCert), key: readFileSync(cp.pki.serverKey) });
        proxies.push(proxy);
        const kubeconfig = join(dir, `proxy-${proxies.length}.kubeconfig`);
        writeFileSync(kubeconfig, kubeconfigText(proxy.url, cp.ca, cp.token));
        return { proxy, kubeconfig };
      },
      pods: async (namespace, cluster) => (await core.listNamespacedPod({ namespace, labelSelector: `ebbtide.io/cluster=${cluster}` })).items,
    };
    return h;
  })();
  return shared;
}

// Under mocha, a root `after` hook stops the shared control plane once every file has run (its
// processes and watches would otherwise keep mocha from exiting). Registered when this module
// is first imported, which happens while mocha loads the spec files.
if (typeof globalThis.after === 'function') {
  after(async function () {
    this.timeout(120_000);
    if (!shared) return;
    const h = await shared.catch(() => undefined);
    shared = undefined;
    await closeProxies();
    await h?.local.stop();
  });
}

/** Closes the fault proxies opened so far (call from an `after` hook). */
export async function closeProxies(): Promise<void> {
  for (const p of proxies.splice(0)) await p.close();
}

/**
 * Backend options as `ebbtide` would derive them from a config with these
 * `backend.kubernetes.*` values (validated by the real schema).
 */
export function backendOptions(cluster: string, kubernetes: Record<string, unknown>): KubernetesBackendOptions {
  const { config } = loadConfig(
    [
      { owner: 'core', schema: coreSchema },
      { owner: 'kubernetes', schema: kubernetesSchema },
    ],
    { env: {}, preset: { cluster: { name: cluster }, backend: { type: 'kubernetes', kubernetes } } },
  );
  return kubernetesOptions(config);
}

/** A pod template whose worker sleeps until SIGTERM; with scheduler "fail" it exits 3 by itself soon after starting. */
export function sleeperTemplate(): Record<string, unknown> {
  return {
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'worker',
          image: 'unused',
          command: ['sh', '-c', 'if [ "{scheduler}" = fail ]; then sleep 0.3; echo failing >&2; exit 3; fi; trap "exit 0" TERM; while :; do sleep 0.2; done'],
          resources: { requests: { cpu: '100m' } },
        },
      ],
    },
  };
}
