import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  type KubeConfig,
  ListWatch,
  PatchStrategy,
  type V1ContainerStatus,
  type V1Node,
  type V1Pod,
  type V1PodCondition,
  type V1PodStatus,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { ContainerConfigError, resolveContainer } from './resolveContainer.js';
import { groupRss, killGroup } from './processGroup.js';

/** Annotation a test sets on a running pod to make the kubelet act out a failure. */
export const SIMULATE_ANNOTATION = 'process-kubelet.ebbtide.io/simulate';
/** What it can act out: the container killed for memory, the pod evicted, the process crashing. */
export type Simulation = 'OOMKilled' | 'Evicted' | 'Error';

export interface KubeletOptions {
  kubeconfig: KubeConfig;
  nodeName?: string;
  /** Node allocatable. */
  cpu?: string;
  memory?: string;
  maxPods?: number;
  /** Folder for pod logs (`{namespace}_{pod}_{uid}/{container}.log`) and working directories. */
  podDir: string;
  /** Environment every container starts with (PATH, HOME, KUBERNETES_SERVICE_*); pod env wins. */
  baseEnv: Record<string, string>;
  /** How often memory limits are checked, ms (default 250). */
  memoryPollMs?: number;
  log?: (line: string) => void;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Killer = 'OOMKilled' | 'Error' | 'Evicted' | undefined;

interface ContainerRun {
  name: string;
  image: string;
  pgid?: number;
  state: 'waiting' | 'running' | 'terminated';
  waiting?: { reason: string; message?: string };
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  signal?: number;
  reason?: string;
  message?: string;
  killedFor?: Killer;
  exited?: Promise<void>;
  memoryTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  pod: V1Pod;
  containers: ContainerRun[];
  startTime: Date;
  terminating: boolean;
  deleted: boolean;
  evicted?: string;
  simulated?: string;
  /** Status writes happen one after another, in order. */
  writes: Promise<void>;
  finalDeleteSent: boolean;
  retryTimer?: NodeJS.Timeout;
}

const terminal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

/**
 * A kubelet without containers: each pod bound to its Node runs as local processes (one process
 * group per container: `command` + `args` with the pod's env; the image is ignored), and its state
 * goes to the API through `pods/status` the way a real kubelet reports it:
 * Pending (ContainerCreating) → Running → Succeeded / Failed with exit codes, `OOMKilled` when a
 * process group outgrows `resources.limits.memory` (or on the simulate annotation), `Evicted`.
 * Graceful deletion: SIGTERM, SIGKILL after the grace period, then the final delete
 * (`gracePeriodSeconds=0`), without which a pod stays Terminating for ever.
 */
export class ProcessKubelet {
  readonly nodeName: string;
  private readonly api: CoreV1Api;
  private readonly runs = new Map<string, PodRun>();
  private informer?: ListWatch<V1Pod>;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;
  private readonly allocatable: Record<string, string>;
  private readonly log: (line: string) => void;

  constructor(private readonly o: KubeletOptions) {
    this.nodeName = o.nodeName ?? 'process-node';
    this.api = o.kubeconfig.makeApiClient(CoreV1Api);
    this.allocatable = { cpu: o.cpu ?? '256', memory: o.memory ?? '1Ti', pods: String(o.maxPods ?? 250), 'ephemeral-storage': '100Gi' };
    this.log = o.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    await this.registerNode();
    const fieldSelector = `spec.nodeName=${this.nodeName}`;
    this.informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(this.o.kubeconfig),
      () => this.api.listPodForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    this.informer.on('add', (p) => this.onPod(p));
    this.informer.on('update', (p) => this.onPod(p));
    this.informer.on('delete', (p) => this.onDelete(p));
    this.informer.on('error', (err) => {
      if (this.stopped) return;
      this.log(`kubelet: pod watch failed (${String(err)}); restarting in 1s`);
      this.restartTimer = setTimeout(() => void this.informer?.start(), 1000);
    });
    await this.informer.start();
  }

  /** Kills every pod process (SIGTERM, SIGKILL after 5 s) and stops watching. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer?.stop();
    const waits: Promise<void>[] = [];
    for (const run of this.runs.values()) {
      clearTimeout(run.retryTimer);
      for (const c of run.containers) {
        if (c.state !== 'running') continue;
        killGroup(c.pgid, 'SIGTERM');
        c.killTimer = setTimeout(() => killGroup(c.pgid, 'SIGKILL'), 5000);
        if (c.exited) waits.push(c.exited);
      }
    }
    await Promise.all(waits);
  }

  /** SIGKILLs every pod process now, synchronously (for a process `exit` hook). */
  killAllNow(): void {
    this.stopped = true;
    for (const run of this.runs.values()) for (const c of run.containers) if (c.state === 'running') killGroup(c.pgid, 'SIGKILL');
  }

  /** Process groups of the running containers of a pod (for tests that look under the API). */
  pids(namespace: string, name: string): number[] {
    const out: number[] = [];
    for (const run of this.runs.values()) {
      if (run.namespace === namespace && run.name === name) for (const c of run.containers) if (c.state === 'running' && c.pgid) out.push(c.pgid);
    }
    return out;
  }

  private async registerNode(): Promise<void> {
    const node: V1Node = {
      metadata: {
        name: this.nodeName,
        labels: { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'node.kubernetes.io/instance-type': 'process' },
      },
    };
    try {
      await this.api.createNode({ body: node });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
    }
    // TaintNodesByCondition admission gave the new Node node.kubernetes.io/not-ready:NoSchedule;
    // the node-lifecycle controller would lift it once Ready, and it does not run here.
    await this.api.patchNode({ name: this.nodeName, body: { spec: { taints: null, unschedulable: false } } }, mergePatch);
    const now = new Date().toISOString();
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
    await this.api.patchNodeStatus(
      {
        name: this.nodeName,
        body: {
          status: {
            capacity: this.allocatable,
            allocatable: this.allocatable,
            conditions: [
              cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
              cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
              cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
              cond('Ready', 'True', 'KubeletReady', 'process kubelet is posting ready status'),
            ],
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: this.nodeName }],
            nodeInfo: {
              machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: 'ebbtide process kubelet', containerRuntimeVersion: 'process://1',
              kubeletVersion: 'v0.0.0-process', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64',
            },
          },
        },
      },
      mergePatch,
    );
  }

  private onPod(pod: V1Pod): void {
    if (this.stopped || pod.spec?.nodeName !== this.nodeName) return;
    const uid = pod.metadata!.uid!;
    let run = this.runs.get(uid);
    if (!run) {
      if (pod.metadata?.deletionTimestamp || terminal(pod.status?.phase)) {
        if (pod.metadata?.deletionTimestamp) void this.finalDelete(pod.metadata.namespace!, pod.metadata.name!, uid);
        return;
      }
      run = {
        uid,
        namespace: pod.metadata!.namespace!,
        name: pod.metadata!.name!,
        pod,
        containers: (pod.spec.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', state: 'waiting', waiting: { reason: 'ContainerCreating' } })),
        startTime: new Date(),
        terminating: false,
        deleted: false,
        writes: Promise.resolve(),
        finalDeleteSent: false,
      };
      this.runs.set(uid, run);
      if (pod.status?.phase === 'Running') {
        // Run by an earlier kubelet whose processes went with it.
        this.failRun(run, 'NodeRestarted', 'the process kubelet restarted; the pod\'s processes are gone');
        return;
      }
      void this.startPod(run);
      return;
    }
    run.pod = pod;
    if (pod.metadata?.deletionTimestamp && !run.terminating) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      this.terminate(run, grace);
    }
    const sim = pod.metadata?.annotations?.[SIMULATE_ANNOTATION];
    if (sim && run.simulated !== sim) {
      run.simulated = sim;
      this.simulate(run, sim);
    }
  }

  private onDelete(pod: V1Pod): void {
    const run = this.runs.get(pod.metadata?.uid ?? '');
    if (!run) return;
    run.deleted = true;
    clearTimeout(run.retryTimer);
    // Force-deleted (or our final delete): nothing may keep running.
    for (const c of run.containers) if (c.state === 'running') killGroup(c.pgid, 'SIGKILL');
    this.runs.delete(run.uid);
  }

  private async startPod(run: PodRun): Promise<void> {
    this.writeStatus(run);
    const pod = run.pod;
    const baseEnv = { ...this.o.baseEnv, HOSTNAME: run.name };
    let resolved;
    try {
      resolved = [];
      for (const c of pod.spec!.containers) resolved.push(await resolveContainer(this.api, pod, c, baseEnv, this.allocatable));
    } catch (e) {
      if (!(e instanceof ContainerConfigError)) this.log(`kubelet: ${run.namespace}/${run.name}: ${String(e)}`);
      const reason = e instanceof ContainerConfigError ? e.reason : 'CreateContainerConfigError';
      for (const c of run.containers) c.waiting = { reason, message: (e as Error).message };
      this.writeStatus(run);
      // A real kubelet keeps retrying (the Secret may appear); so do we, until the pod goes.
      if (!this.stopped && !run.terminating && !run.deleted) run.retryTimer = setTimeout(() => void this.startPod(run), 2000);
      else if (run.terminating) void this.finishIfDone(run);
      return;
    }
    if (run.terminating || run.deleted || this.stopped) return void this.finishIfDone(run);
    const dir = join(this.o.podDir, `${run.namespace}_${run.name}_${run.uid}`);
    mkdirSync(dir, { recursive: true });
    await Promise.all(resolved.map((rc, i) => this.spawnContainer(run, run.containers[i]!, rc, dir)));
    this.writeStatus(run);
    void this.finishIfDone(run);
  }

  private spawnContainer(run: PodRun, c: ContainerRun, rc: Awaited<ReturnType<typeof resolveContainer>>, dir: string): Promise<void> {
    return new Promise((resolve) => {
      const fd = openSync(join(dir, `${c.name}.log`), 'a');
      const cwd = rc.workingDir && existsSync(rc.workingDir) ? rc.workingDir : dir;
      const child = spawn(rc.file, rc.args, { detached: true, cwd, env: { HOME: dir, ...rc.env }, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      let exitResolve!: () => void;
      c.exited = new Promise((r) => (exitResolve = r));
      const ended = (exitCode: number, signal: number | undefined, reason: string, message?: string) => {
        if (c.state === 'terminated') return;
        clearInterval(c.memoryTimer);
        clearTimeout(c.killTimer);
        killGroup(c.pgid, 'SIGKILL'); // no grandchild outlives the container
        c.state = 'terminated';
        c.finishedAt = new Date();
        c.startedAt ??= c.finishedAt;
        c.exitCode = exitCode;
        if (signal !== undefined) c.signal = signal;
        c.reason = reason;
        if (message) c.message = message;
        delete c.waiting;
        this.log(`kubelet: ${run.namespace}/${run.name}/${c.name} exited ${exitCode} (${reason})`);
        exitResolve();
        resolve();
        if (!run.deleted) {
          this.writeStatus(run);
          void this.finishIfDone(run);
        }
      };
      child.once('spawn', () => {
        c.pgid = child.pid;
        c.state = 'running';
        c.startedAt = new Date();
        delete c.waiting;
        if (rc.memoryLimit > 0) {
          c.memoryTimer = setInterval(() => {
            if (c.pgid && groupRss(c.pgid) > rc.memoryLimit) {
              c.killedFor = 'OOMKilled';
              killGroup(c.pgid, 'SIGKILL');
            }
          }, this.o.memoryPollMs ?? 250);
        }
        resolve();
      });
      child.once('error', (e) => ended(128, undefined, 'StartError', `failed to start ${JSON.stringify(rc.file)}: ${e.message}`));
      child.once('exit', (code, sig) => {
        const signo = sig ? osConstants.signals[sig] : undefined;
        const exitCode = code ?? 128 + (signo ?? 9);
        const reason = c.killedFor === 'OOMKilled' ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
        ended(exitCode, signo, reason);
      });
    });
  }

  private terminate(run: PodRun, graceSeconds: number): void {
    run.terminating = true;
    clearTimeout(run.retryTimer);
    for (const c of run.containers) {
      if (c.state !== 'running') continue;
      killGroup(c.pgid, 'SIGTERM');
      c.killTimer = setTimeout(() => killGroup(c.pgid, 'SIGKILL'), graceSeconds * 1000);
    }
    void this.finishIfDone(run);
  }

  private simulate(run: PodRun, what: string): void {
    const kill: Killer = what === 'OOMKilled' ? 'OOMKilled' : what === 'Evicted' ? 'Evicted' : what === 'Error' ? 'Error' : undefined;
    if (!kill) {
      this.log(`kubelet: ${run.namespace}/${run.name}: unknown ${SIMULATE_ANNOTATION} value ${JSON.stringify(what)}`);
      return;
    }
    if (kill === 'Evicted') run.evicted = 'The node was low on resource: memory. (simulated by the process kubelet)';
    for (const c of run.containers) {
      if (c.state !== 'running') continue;
      c.killedFor = kill;
      killGroup(c.pgid, 'SIGKILL');
    }
  }

  /** A pod that cannot run (its processes are gone): Failed with a reason, its containers terminated. */
  private failRun(run: PodRun, reason: string, message: string): void {
    for (const c of run.containers) {
      c.state = 'terminated';
      c.exitCode = 137;
      c.reason = 'Error';
      c.finishedAt = new Date();
    }
    run.evicted = message;
    this.writeStatus(run, reason);
  }

  /** Once no container runs: a terminating pod gets its final delete. */
  private async finishIfDone(run: PodRun): Promise<void> {
    if (!run.terminating || run.finalDeleteSent) return;
    if (run.containers.some((c) => c.state === 'running')) return;
    run.finalDeleteSent = true;
    await run.writes;
    await this.finalDelete(run.namespace, run.name, run.uid);
  }

  private async finalDelete(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code !== 404 && code !== 409) this.log(`kubelet: final delete of ${namespace}/${name} failed: ${String(e)}`);
    }
  }

  private status(run: PodRun, failReason?: string): V1PodStatus {
    const cs = run.containers;
    const allTerminated = cs.every((c) => c.state === 'terminated');
    const anyWaiting = cs.some((c) => c.state === 'waiting');
    const allRunning = cs.every((c) => c.state === 'running');
    let phase: string;
    if (run.evicted) phase = 'Failed';
    else if (allTerminated) phase = cs.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
    else if (anyWaiting) phase = 'Pending';
    else phase = 'Running';
    const now = new Date();
    const ready = allRunning && !run.evicted;
    const cond = (type: string, ok: boolean, reason?: string): V1PodCondition => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now, ...(reason && !ok ? { reason } : {}) });
    const conditions: V1PodCondition[] = [
      cond('PodReadyToStartContainers', true),
      cond('Initialized', true),
      cond('Ready', ready, allTerminated ? 'PodCompleted' : 'ContainersNotReady'),
      cond('ContainersReady', ready, allTerminated ? 'PodCompleted' : 'ContainersNotReady'),
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
    ];
    if (run.evicted) conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: run.evicted, lastTransitionTime: now });
    const containerStatuses: V1ContainerStatus[] = cs.map((c) => {
      const id = c.pgid ? `process://${c.pgid}` : undefined;
      const base = { name: c.name, image: c.image, imageID: '', restartCount: 0, ready: c.state === 'running' && ready, started: c.state === 'running', ...(id ? { containerID: id } : {}) };
      if (c.state === 'running') return { ...base, state: { running: { startedAt: c.startedAt! } } };
      if (c.state === 'terminated') {
        return {
          ...base,
          state: {
            terminated: {
              exitCode: c.exitCode!, ...(c.signal !== undefined ? { signal: c.signal } : {}), reason: c.reason!, ...(c.message ? { message: c.message } : {}),
              startedAt: c.startedAt ?? now, finishedAt: c.finishedAt ?? now, ...(id ? { containerID: id } : {}),
            },
          },
        };
      }
      return { ...base, state: { waiting: { reason: c.waiting?.reason ?? 'ContainerCreating', ...(c.waiting?.message ? { message: c.waiting.message } : {}) } } };
    });
    return {
      phase,
      conditions,
      containerStatuses,
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: run.startTime,
      qosClass: run.pod.status?.qosClass ?? 'BestEffort',
      ...(run.evicted ? { reason: failReason ?? 'Evicted', message: run.evicted } : {}),
    };
  }

  private writeStatus(run: PodRun, failReason?: string): void {
    const body = { status: this.status(run, failReason) };
    run.writes = run.writes.then(async () => {
      if (run.deleted) return;
      try {
        await this.api.patchNamespacedPodStatus({ name: run.name, namespace: run.namespace, body }, mergePatch);
      } catch (e) {
        const code = (e as { code?: number }).code;
        if (code !== 404) this.log(`kubelet: status of ${run.namespace}/${run.name} not written: ${String(e)}`);
      }
    });
  }
}
