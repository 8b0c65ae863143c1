import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from './controlPlane.js';
import { ProcessKubelet } from './kubelet/ProcessKubelet.js';

/** test/servers/kubernetes (this file runs from test/dist/servers/kubernetes/src). */
export const SERVER_DIR = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..', 'servers', 'kubernetes');
const REPO_BIN = resolve(SERVER_DIR, '..', '..', '..', 'node_modules', '.bin');

export interface LocalKubernetesOptions {
  dir: string;
  /** Folder with the four programs; default: what build.sh builds (building them if needed). */
  binDir?: string;
  nodeName?: string;
  cpu?: string;
  memory?: string;
  maxPods?: number;
}

export interface LocalKubernetes {
  cp: ControlPlane;
  kubelet: ProcessKubelet;
  kubeconfig: string;
  /** Stops the kubelet's pods, then the control plane. */
  stop(): Promise<void>;
  /** SIGKILLs everything now, synchronously (for a process `exit` hook). */
  killNow(): void;
}

/** Runs build.sh (a no-op when cached) and returns the bin folder. */
export function buildControlPlane(): string {
  return execFileSync('bash', [join(SERVER_DIR, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }).trim().split('\n').pop()!;
}

/** The control plane plus the process kubelet with its Node registered: what start.mjs runs. */
export async function startLocalKubernetes(o: LocalKubernetesOptions): Promise<LocalKubernetes> {
  const cp = await startControlPlane({ dir: o.dir, binDir: o.binDir ?? buildControlPlane() });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const kubeletLog = join(o.dir, 'logs', 'kubelet.log');
  const kubelet = new ProcessKubelet({
    kubeconfig: kc,
    ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    ...(o.cpu ? { cpu: o.cpu } : {}),
    ...(o.memory ? { memory: o.memory } : {}),
    ...(o.maxPods ? { maxPods: o.maxPods } : {}),
    podDir: join(o.dir, 'pods'),
    baseEnv: {
      PATH: [REPO_BIN, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: new URL(cp.server).port,
      ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    },
    log: (line) => writeFileSync(kubeletLog, `${new Date().toISOString()} ${line}\n`, { flag: 'a' }),
  });
  try {
    await kubelet.start();
  } catch (e) {
    await cp.stop();
    throw new Error(`the process kubelet could not register its node: ${String(e)}`);
  }
  return {
    cp,
    kubelet,
    kubeconfig: cp.kubeconfig,
    stop: async () => {
      await kubelet.stop().catch(() => undefined);
      await cp.stop();
    },
    killNow: () => {
      kubelet.killAllNow();
      for (const d of cp.daemons) d.killNow();
    },
  };
}
