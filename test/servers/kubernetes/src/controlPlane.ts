import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, waitUntil } from './daemon.js';
import { httpsGet } from './https.js';
import { type Pki, ensurePki } from './pki.js';
import { freePort } from './ports.js';

export interface ControlPlaneOptions {
  /** Working folder: etcd data, pki, logs, kubeconfig. */
  dir: string;
  /** Folder with etcd, kube-apiserver, kube-scheduler, kube-controller-manager (from build.sh). */
  binDir: string;
  /** Milliseconds to wait for each component (default 120 000). */
  startTimeoutMs?: number;
}

export interface ControlPlane {
  server: string;
  kubeconfig: string;
  token: string;
  pki: Pki;
  ca: Buffer;
  daemons: Daemon[];
  stop(): Promise<void>;
}

/** The controllers the process-kubelet tests rely on (quota, GC, namespaces, service accounts). */
const CONTROLLERS = [
  'resourcequota-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'pod-garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
].join(',');

export function kubeconfigText(server: string, ca: Buffer, token: string, user = 'admin'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: ebbtide-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca.toString('base64')}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: ebbtide-local',
    '  context:',
    '    cluster: ebbtide-local',
    `    user: ${user}`,
    '    namespace: default',
    'current-context: ebbtide-local',
    '',
  ].join('\n');
}

/**
 * Starts a real etcd, kube-apiserver (token and client-certificate auth, RBAC), kube-scheduler
 * and kube-controller-manager on 127.0.0.1 (free ports), writes `dir/kubeconfig` (admin, a
 * `system:masters` token) and resolves once each answers its health check. On failure every
 * started program is stopped and the error names the log to read.
 */
export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const ms = o.startTimeoutMs ?? 120_000;
  mkdirSync(join(o.dir, 'logs'), { recursive: true });
  const pki = ensurePki(o.dir);
  const ca = readFileSync(pki.caCert);
  const token = randomBytes(16).toString('hex');
  writeFileSync(join(o.dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  const [etcdPort, peerPort, apiPort, schedPort, kcmPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(o.dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigText(server, ca, token), { mode: 0o600 });
  const bin = (n: string) => join(o.binDir, n);
  const log = (n: string) => join(o.dir, 'logs', `${n}.log`);
  const daemons: Daemon[] = [];
  const stop = async () => {
    for (const d of [...daemons].reverse()) await d.stop();
  };
  try {
    const etcd = new Daemon('etcd', bin('etcd'), [
      '--name=default',
      `--data-dir=${join(o.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], log('etcd'));
    daemons.push(etcd);
    await waitUntil('etcd /health', async () => {
      const r = await fetch(`http://127.0.0.1:${etcdPort}/health`);
      return r.ok;
    }, daemons, ms);

    const apiserver = new Daemon('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(o.dir, 'pki')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${join(o.dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--allow-privileged=true',
      '--profiling=false',
      '--endpoint-reconciler-type=none',
    ], log('kube-apiserver'));
    daemons.push(apiserver);
    await waitUntil('kube-apiserver /readyz', async () => (await httpsGet(`${server}/readyz`, { ca, token })).status === 200, daemons, ms);

    const common = [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1'];
    const scheduler = new Daemon('kube-scheduler', bin('kube-scheduler'), [...common, `--secure-port=${schedPort}`], log('kube-scheduler'));
    daemons.push(scheduler);
    const kcm = new Daemon('kube-controller-manager', bin('kube-controller-manager'), [
      ...common,
      `--secure-port=${kcmPort}`,
      `--controllers=${CONTROLLERS}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=false',
    ], log('kube-controller-manager'));
    daemons.push(kcm);
    await waitUntil('kube-scheduler /healthz', async () => (await httpsGet(`https://127.0.0.1:${schedPort}/healthz`, { token })).status === 200, daemons, ms);
    await waitUntil('kube-controller-manager /healthz', async () => (await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`, { token })).status === 200, daemons, ms);
    // Pods need the namespace's `default` ServiceAccount (ServiceAccount admission); its controller makes it.
    await waitUntil('the default ServiceAccount', async () => (await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, { ca, token })).status === 200, daemons, ms);
  } catch (e) {
    await stop();
    throw e;
  }
  return { server, kubeconfig, token, pki, ca, daemons, stop };
}
