import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { inject, injectable } from 'tsyringe';
import { BehaviorSubject, type Observable, type SchedulerLike, type Subscription, timer } from 'rxjs';
import {
  type AdoptOptions,
  type BackendWorkerStatus,
  type CloseOptions,
  EbbtideError,
  LOGGER,
  type Logger,
  PLUGIN_OPTIONS,
  RX_SCHEDULER,
  type ResourceBackend,
  type WorkerSpec,
  describeError,
  formatDuration,
} from '@ebbtide/core';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { type ClassifiedError, classify } from './apiErrors.js';
import type { KubernetesBackendOptions } from './config.js';
import { KubeApi, apiError } from './KubeApi.js';
import { loadKubeConfig } from './kubeConfig.js';
import { LeaseLock } from './LeaseLock.js';
import { PodInformer } from './PodInformer.js';
import { CLUSTER_LABEL, WORKER_LABEL, buildPod, clusterSelector, type PodSettings } from './podTemplate.js';
import { type PodView, viewPod } from './podStatus.js';

interface Worker {
  name: string;
  status: BackendWorkerStatus;
  /** uid of the pod that is this worker (known once created or adopted). */
  uid?: string;
  pod?: V1Pod;
  /** A create request is in flight. */
  creating?: Promise<void>;
  /** stop() (or the pending deadline) asked for its removal. */
  deleting: boolean;
  /** Its exit was reported; it is forgotten. */
  done: boolean;
  deadline?: Subscription;
  lastPending?: Extract<PodView, { phase: 'pending' }>;
  gone: Promise<void>;
  resolveGone: () => void;
}

const terminal = (pod: V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Runs `fn` over `items` in batches of `size`, at most `concurrency` at a time within a batch. */
async function inBatches<T, R>(items: T[], size: number, concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    const batch = items.slice(i, i + size);
    const results = new Array<R>(batch.length);
    let next = 0;
    const lanes = Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
      while (next < batch.length) {
        const j = next++;
        results[j] = await fn(batch[j]!);
      }
    });
    await Promise.all(lanes);
    out.push(...results);
  }
  return out;
}

/**
 * `backend.type: kubernetes` — one bare pod per worker (backends.md §2).
 *
 * - Pods are named after the worker (`{cluster}-{i}`), `restartPolicy: Never`, labelled
 *   `app.kubernetes.io/managed-by=ebbtide`, `ebbtide.io/cluster`, `ebbtide.io/worker`; a create
 *   retried after a timeout meets its own pod (409 AlreadyExists) and adopts it.
 * - State comes from one informer (list + watch by the cluster's label selector) that restarts
 *   itself with backoff, re-lists on 410 and periodically.
 * - `stop` deletes with the grace period (the core has retired the worker through the scheduler
 *   first); the worker is `exited` when the pod is gone.
 * - A pod Pending past `pendingDeadline` is deleted and reported failed (capacity-limited when it
 *   could not be scheduled); a 403 "exceeded quota" is a capacity refusal; 429/5xx/timeouts are
 *   retried with backoff and jitter, honouring Retry-After; 400/422 are configuration errors.
 * - `adopt` takes the cluster's Lease (CLUSTER_LOCKED while another live ebbtide renews it; with
 *   leader election, waits for it), then takes over the cluster's existing pods.
 */
@injectable()
export class KubernetesBackend implements ResourceBackend {
  private readonly workers = new Map<string, Worker>();
  private readonly subject = new BehaviorSubject<BackendWorkerStatus[]>([]);
  readonly status$: Observable<BackendWorkerStatus[]> = this.subject.asObservable();
  private api?: KubeApi;
  private namespace = '';
  private informer?: PodInformer;
  private lock?: LeaseLock;
  private owner?: V1OwnerReference;
  private ready?: Promise<void>;
  private adopted = false;
  private closed = false;
  private fenced = false;
  private invalidReported = false;
  private readonly goneWaiters = new Map<string, Array<() => void>>();

  constructor(
    @inject(PLUGIN_OPTIONS) private readonly o: KubernetesBackendOptions,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RX_SCHEDULER) private readonly rx: SchedulerLike,
  ) {}

  /** API calls made so far, by purpose (for benchmarks and tests). */
  get apiCalls(): ReadonlyMap<string, number> {
    return this.api?.calls ?? new Map();
  }

  /** The informer's counters (lists, watches, errors, 410s). */
  get informerStats() {
    return this.informer?.stats;
  }

  /** The namespace in use (after the first call). */
  get podNamespace(): string {
    return this.namespace;
  }

  private get containerName(): string {
    return this.o.podTemplate.spec!.containers[this.o.container]!.name;
  }

  private settings(): PodSettings {
    return {
      cluster: this.o.cluster,
      namespace: this.namespace,
      container: this.o.container,
      env: this.o.env,
      labels: this.o.labels,
      annotations: this.o.annotations,
      ...(this.owner ? { owner: this.owner } : {}),
    };
  }

  // ---- start-up: connect, lock, validate, list ----------------------------------------------

  private ensureReady(): Promise<void> {
    this.ready ??= this.connect();
    return this.ready;
  }

  private async connect(): Promise<void> {
    const loaded = loadKubeConfig(this.o);
    this.namespace = loaded.namespace;
    this.api = new KubeApi(loaded.kc, this.rx, this.logger, this.o.requestTimeout * 1000);
    this.logger.info({ event: 'backend.connect', server: loaded.kc.getCurrentCluster()?.server, namespace: this.namespace, kubeconfig: loaded.source }, `kubernetes: namespace ${this.namespace} on ${loaded.kc.getCurrentCluster()?.server}`);
    const le = this.o.leaderElection;
    this.lock = new LeaseLock(
      this.api,
      this.namespace,
      le.leaseName,
      le.identity || `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`,
      { leaseDuration: le.leaseDuration * 1000, renewDeadline: le.renewDeadline * 1000, retryPeriod: le.retryPeriod * 1000 },
      this.rx,
      this.logger,
      (why) => this.fence(why),
    );
    try {
      await this.lock.acquire(le.enabled);
    } catch (e) {
      if (e instanceof EbbtideError) throw e;
      throw apiError(`taking lease ${this.namespace}/${le.leaseName}`, classify(e), e);
    }
    if (this.closed) throw new EbbtideError('BACKEND_START_FAILED', 'kubernetes backend closed while starting');
    await this.resolveOwner();
    await this.validateTemplate();
    this.informer = new PodInformer(this.api, this.namespace, clusterSelector(this.o.cluster), this.o.resyncPeriod * 1000, this.rx, this.logger, {
      upsert: (pod) => this.onPod(pod),
      remove: (pod) => this.onPodGone(pod),
    });
    try {
      await this.informer.start();
    } catch (e) {
      throw apiError(`listing pods in namespace ${this.namespace}`, classify(e), e);
    }
  }

  private async resolveOwner(): Promise<void> {
    const ow = this.o.owner;
    if (!ow) return;
    let uid = ow.uid;
    if (!uid) {
      try {
        const obj = await this.api!.withRetry('read owner', () => this.api!.objects.read({ apiVersion: ow.apiVersion, kind: ow.kind, metadata: { name: ow.name, namespace: this.namespace } }));
        uid = obj.metadata?.uid ?? '';
      } catch (e) {
        const c = classify(e);
        throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.owner: cannot read ${ow.kind} ${this.namespace}/${ow.name} (${ow.apiVersion}): ${c.message}`, { key: 'backend.kubernetes.owner', cause: e });
      }
    }
    this.owner = { apiVersion: ow.apiVersion, kind: ow.kind, name: ow.name, uid, controller: false, blockOwnerDeletion: false };
  }

  /** A server-side dry run of a worker pod: admission, defaults and strict field validation, nothing stored. */
  private async validateTemplate(): Promise<void> {
    const body = buildPod(this.o.podTemplate, { name: `${this.o.cluster}-dry-run`, scheduler: 'tcp://127.0.0.1:8786', nthreads: 1, memoryLimit: 0 }, this.settings());
    delete body.metadata!.name;
    body.metadata!.generateName = `${this.o.cluster}-dry-run-`;
    try {
      const path = `api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods?dryRun=All&fieldValidation=Strict`;
      await this.api!.withRetry('validate pod template', () => this.api!.raw('validate pod template', 'POST', path, body));
    } catch (e) {
      const c = classify(e);
      if (c.kind === 'invalid') {
        throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.podTemplate: the API rejected the worker pod (server-side dry run): ${c.message}`, { key: 'backend.kubernetes.podTemplate', cause: e });
      }
      if (c.kind === 'capacity') {
        this.logger.warn({ event: 'backend.quota', message: c.message }, `the namespace's quota is used up already: ${c.message}`);
        return;
      }
      throw apiError('validating the pod template (server-side dry run)', c, e);
    }
  }

  // ---- the view ---------------------------------------------------------------------------

  private publish(): void {
    const view = [...this.workers.values()].map((w) => ({ ...w.status }));
    for (const w of [...this.workers.values()]) if (w.done) this.workers.delete(w.name);
    if (!this.subject.closed) this.subject.next(view);
  }

  private setStatus(w: Worker, s: Omit<BackendWorkerStatus, 'name'>): boolean {
    const cur = w.status;
    if (cur.phase === s.phase && cur.reason === s.reason && cur.failed === s.failed) return false;
    w.status = { name: w.name, ...s };
    return true;
  }

  private newWorker(name: string, status: Omit<BackendWorkerStatus, 'name'>): Worker {
    let resolveGone!: () => void;
    const gone = new Promise<void>((r) => (resolveGone = r));
    const w: Worker = { name, status: { name, ...status }, deleting: false, done: false, gone, resolveGone };
    this.workers.set(name, w);
    return w;
  }

  private exited(w: Worker, s: { failed: boolean; reason: string; exitCode?: number | null; capacity?: boolean }): void {
    if (w.done) return;
    w.done = true;
    w.deadline?.unsubscribe();
    w.status = { name: w.name, phase: 'exited', failed: s.failed, reason: s.reason, ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}), ...(s.capacity ? { capacity: true } : {}) };
    const log = { event: 'worker.exited', worker: w.name, failed: s.failed, reason: s.reason, exitCode: s.exitCode };
    if (s.failed) this.logger.error(log, `worker pod ${w.name} failed: ${s.reason}`);
    else this.logger.info(log, `worker pod ${w.name} gone`);
    this.publish();
    w.resolveGone();
  }

  private workerName(pod: V1Pod): string {
    return pod.metadata?.labels?.[WORKER_LABEL] ?? pod.metadata!.name!;
  }

  private onPod(pod: V1Pod): void {
    if (this.fenced) return;
    const w = this.workers.get(this.workerName(pod));
    if (!w || w.done || (w.uid && w.uid !== pod.metadata?.uid)) {
      if (!w || w.done) this.stray(pod);
      return;
    }
    if (!w.uid) {
      // Seen before the create's reply. An earlier incarnation of the name that is finishing is
      // not it (the create then meets 409 and waits it out).
      if (pod.metadata?.deletionTimestamp || terminal(pod)) return;
      w.uid = pod.metadata?.uid;
    }
    w.pod = pod;
    this.refresh(w);
  }

  private onPodGone(pod: V1Pod): void {
    const name = pod.metadata!.name!;
    for (const f of this.goneWaiters.get(name) ?? []) f();
    this.goneWaiters.delete(name);
    if (this.fenced) return;
    const w = this.workers.get(this.workerName(pod));
    // Without a uid yet, the worker's pod is still being created: a pod of that name going now
    // is an earlier incarnation.
    if (!w || w.done || !w.uid || w.uid !== pod.metadata?.uid) return;
    if (w.deleting) return this.exited(w, { failed: false, reason: 'stopped (pod deleted)' });
    const v = viewPod(pod, this.containerName);
    if (v.phase === 'succeeded' || v.phase === 'failed') return this.exited(w, { failed: v.phase === 'failed', reason: v.reason, exitCode: v.exitCode });
    this.exited(w, { failed: true, reason: `pod deleted outside ebbtide${pod.status?.reason ? ` (${pod.status.reason})` : ''}` });
  }

  /** A pod of this cluster that no worker owns (a create given up on that happened after all): remove it. */
  private stray(pod: V1Pod): void {
    if (!this.adopted || this.closed || pod.metadata?.deletionTimestamp) return;
    if (pod.metadata?.labels?.[CLUSTER_LABEL] !== this.o.cluster) return;
    this.logger.warn({ event: 'pod.stray', pod: pod.metadata?.name }, `deleting pod ${pod.metadata?.name}: it belongs to cluster ${this.o.cluster} but to no worker this ebbtide tracks`);
    void this.deletePod(pod.metadata!.name!, pod.metadata!.uid, terminal(pod) ? 0 : this.o.gracePeriod).catch(() => undefined);
  }

  private refresh(w: Worker): void {
    const v = viewPod(w.pod!, this.containerName);
    let changed = false;
    switch (v.phase) {
      case 'pending':
        w.lastPending = v;
        changed = this.setStatus(w, { phase: w.deleting ? 'stopping' : 'pending', reason: v.reason });
        break;
      case 'running':
        w.deadline?.unsubscribe();
        changed = this.setStatus(w, { phase: w.deleting ? 'stopping' : 'running' });
        break;
      case 'terminating':
        w.deadline?.unsubscribe();
        changed = this.setStatus(w, { phase: 'stopping' });
        break;
      case 'succeeded':
      case 'failed':
        if (w.deleting) {
          changed = this.setStatus(w, { phase: 'stopping' });
          break;
        }
        // Over on its own: report it, then remove the pod so the name can be used again.
        this.exited(w, { failed: v.phase === 'failed', reason: v.reason, exitCode: v.exitCode });
        void this.deletePod(w.name, w.uid, 0).catch((e) => this.logger.warn({ event: 'pod.cleanup-failed', pod: w.name, error: describeError(e) }, `could not delete finished pod ${w.name}`));
        return;
    }
    if (changed) this.publish();
  }

  private armDeadline(w: Worker): void {
    w.deadline?.unsubscribe();
    w.deadline = timer(this.o.pendingDeadline * 1000, this.rx).subscribe(() => void this.deadlinePassed(w));
  }

  private async deadlinePassed(w: Worker): Promise<void> {
    if (w.done || w.deleting || w.status.phase !== 'pending' || this.fenced) return;
    const p = w.lastPending;
    let reason = p?.reason ?? 'not created yet';
    if (p && !p.unschedulable) reason = (await this.lastWarning(w.name)) ?? reason;
    const text = `pending past its ${formatDuration(this.o.pendingDeadline)} deadline: ${reason}`;
    this.logger.warn({ event: 'worker.pending-deadline', worker: w.name, reason }, `worker pod ${w.name} ${text}; deleting it`);
    w.deleting = true;
    this.exited(w, { failed: true, reason: text, ...(p?.unschedulable ? { capacity: true } : {}) });
    await this.deletePod(w.name, w.uid, 0).catch(() => undefined);
  }

  /** The newest Warning event of a pod ("Failed: ErrImagePull ..."), for a pending pod's reason. */
  private async lastWarning(pod: string): Promise<string | undefined> {
    try {
      const list = await this.api!.once('list events', (opt) => this.api!.core.listNamespacedEvent({ namespace: this.namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}` }, opt as never));
      const warn = list.items.filter((e) => e.type === 'Warning').at(-1);
      return warn ? `${warn.reason}: ${warn.message}` : undefined;
    } catch {
      return undefined;
    }
  }

  // ---- the contract -----------------------------------------------------------------------

  async adopt(options: AdoptOptions): Promise<BackendWorkerStatus[]> {
    if (options.cluster !== this.o.cluster) {
      throw new EbbtideError('CONFIG_INVALID', `kubernetes backend: asked to adopt cluster ${options.cluster} but configured for cluster ${this.o.cluster}`);
    }
    await this.ensureReady();
    const found: BackendWorkerStatus[] = [];
    for (const pod of this.informer!.pods.values()) {
      const name = this.workerName(pod);
      if (this.workers.has(name)) continue;
      if (terminal(pod)) {
        // Finished while nobody watched: nothing to adopt; clear the name.
        if (!pod.metadata?.deletionTimestamp) void this.deletePod(pod.metadata!.name!, pod.metadata!.uid, 0).catch(() => undefined);
        continue;
      }
      const w = this.newWorker(name, { phase: 'pending' });
      w.uid = pod.metadata?.uid;
      w.pod = pod;
      if (pod.metadata?.deletionTimestamp) w.deleting = true;
      this.refresh(w);
      if (w.status.phase === 'pending') this.armDeadline(w);
      found.push({ ...w.status });
    }
    this.adopted = true;
    this.publish();
    if (found.length) this.logger.info({ event: 'backend.adopted', workers: found.map((s) => s.name) }, `adopted ${found.length} worker pod(s) of cluster ${this.o.cluster}`);
    return found;
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    if (this.closed || this.fenced) throw new EbbtideError('BACKEND_START_FAILED', this.fenced ? 'kubernetes backend lost its lease and no longer acts' : 'kubernetes backend is closed');
    await this.ensureReady();
    this.adopted = true;
    const fresh = specs.filter((s) => {
      const w = this.workers.get(s.name);
      return !w || w.done;
    });
    if (!fresh.length) return;
    const ws = fresh.map((s) => {
      const w = this.newWorker(s.name, { phase: 'pending', reason: 'creating' });
      this.armDeadline(w);
      return w;
    });
    this.publish();
    const results = await inBatches(fresh, this.o.createBatchSize, this.o.createConcurrency, async (spec) => {
      const w = ws.find((x) => x.name === spec.name)!;
      let done!: () => void;
      w.creating = new Promise<void>((r) => (done = r));
      try {
        await this.create(w, spec);
        return undefined;
      } catch (e) {
        return e;
      } finally {
        done();
        delete w.creating;
      }
    });
    const errors = results.filter((e) => e !== undefined);
    results.forEach((e, i) => {
      if (e === undefined) return;
      const w = ws[i]!;
      const capacity = (e as EbbtideError).code === 'BACKEND_CAPACITY';
      this.exited(w, { failed: true, reason: describeError(e), ...(capacity ? { capacity: true } : {}) });
    });
    if (errors.length === fresh.length) throw errors[0];
    if (errors.length) this.logger.warn({ event: 'backend.partial-start', started: fresh.length - errors.length, refused: errors.length, error: describeError(errors[0]) }, `${errors.length} of ${fresh.length} worker pods were refused: ${describeError(errors[0])}`);
  }

  private async create(w: Worker, spec: WorkerSpec): Promise<void> {
    const api = this.api!;
    const body = buildPod(this.o.podTemplate, spec, this.settings());
    for (let round = 0; ; round++) {
      try {
        const pod = await api.withRetry('create pod', (opt) => api.core.createNamespacedPod({ namespace: this.namespace, body }, opt as never), { stopped: () => this.closed || w.deleting });
        w.uid ??= pod.metadata?.uid;
        w.pod ??= pod;
        this.afterCreate(w);
        return;
      } catch (e) {
        const c = classify(e);
        if (c.kind === 'conflict' && c.reason === 'AlreadyExists' && round < 3) {
          if (await this.claimExisting(w)) return this.afterCreate(w);
          continue;
        }
        throw this.createError(w.name, c, e);
      }
    }
  }

  private afterCreate(w: Worker): void {
    if (w.done) return;
    if (w.deleting) {
      void this.deletePod(w.name, w.uid, this.o.gracePeriod).catch(() => undefined);
      return;
    }
    if (w.pod) this.refresh(w);
  }

  /**
   * After 409 AlreadyExists: our own earlier create (it timed out, or its reply was lost) is
   * adopted; an earlier incarnation of the name that is finishing is waited out; anything else
   * is refused.
   */
  private async claimExisting(w: Worker): Promise<boolean> {
    let pod: V1Pod;
    try {
      pod = await this.api!.withRetry('read pod', (opt) => this.api!.core.readNamespacedPod({ name: w.name, namespace: this.namespace }, opt as never));
    } catch (e) {
      if (classify(e).kind === 'notFound') return false; // gone in between: create again
      throw e;
    }
    const labels = pod.metadata?.labels ?? {};
    if (labels[CLUSTER_LABEL] !== this.o.cluster || labels[WORKER_LABEL] !== w.name) {
      throw new EbbtideError('BACKEND_START_FAILED', `pod ${this.namespace}/${w.name} already exists and is not worker ${w.name} of ebbtide cluster ${this.o.cluster} (labels ${JSON.stringify(labels)})`);
    }
    if (!pod.metadata?.deletionTimestamp && !terminal(pod)) {
      this.logger.info({ event: 'pod.create-adopted', pod: w.name }, `pod ${w.name} already exists (an earlier create went through): adopting it`);
      w.uid = pod.metadata?.uid;
      w.pod = pod;
      return true;
    }
    if (!pod.metadata?.deletionTimestamp) await this.deletePod(w.name, pod.metadata?.uid, 0).catch(() => undefined);
    await this.waitGone(w.name, (this.o.gracePeriod + 60) * 1000);
    return false;
  }

  private waitGone(name: string, ms: number): Promise<void> {
    if (!this.informer?.pods.has(name)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = timer(ms, this.rx).subscribe(() => resolve());
      const list = this.goneWaiters.get(name) ?? [];
      list.push(() => {
        t.unsubscribe();
        resolve();
      });
      this.goneWaiters.set(name, list);
    });
  }

  private createError(name: string, c: ClassifiedError, cause: unknown): EbbtideError {
    if (c.kind === 'invalid') {
      const err = new EbbtideError('CONFIG_INVALID', `backend.kubernetes.podTemplate: the API refused worker pod ${name}: ${c.message}`, { key: 'backend.kubernetes.podTemplate', cause });
      if (!this.invalidReported) {
        this.invalidReported = true;
        this.logger.error({ event: 'backend.config-error', status: c.status, message: c.message }, err.message);
      }
      return err;
    }
    if (cause instanceof EbbtideError) return cause;
    return apiError(`creating worker pod ${this.namespace}/${name}`, c, cause);
  }

  private async deletePod(name: string, uid: string | undefined, grace: number): Promise<void> {
    const api = this.api!;
    try {
      await api.withRetry('delete pod', (opt) =>
        api.core.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds: grace, body: { gracePeriodSeconds: grace, ...(uid ? { preconditions: { uid } } : {}) } }, opt as never),
      );
    } catch (e) {
      const c = classify(e);
      // 404: gone already; 409: a newer pod of that name (the uid precondition) — not ours to delete.
      if (c.kind === 'notFound' || c.kind === 'conflict') return;
      throw apiError(`deleting pod ${this.namespace}/${name}`, c, e);
    }
  }

  async stop(names: string[]): Promise<void> {
    if (this.fenced || !this.api) return;
    const jobs: Promise<void>[] = [];
    for (const name of names) {
      const w = this.workers.get(name);
      if (!w || w.done) continue;
      if (w.deleting && w.status.phase === 'stopping') continue;
      w.deleting = true;
      w.deadline?.unsubscribe();
      this.setStatus(w, { phase: 'stopping' });
      jobs.push(
        (async () => {
          if (w.creating) await w.creating;
          if (w.done) return;
          if (!w.uid && !w.pod) return this.exited(w, { failed: false, reason: 'stopped before its pod was created' });
          try {
            await this.deletePod(name, w.uid, this.o.gracePeriod);
          } catch (e) {
            w.deleting = false;
            throw e;
          }
          if (!this.informer?.pods.has(name)) this.exited(w, { failed: false, reason: 'stopped (pod deleted)' });
        })(),
      );
    }
    if (jobs.length) this.publish();
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ready && !this.fenced) {
      await this.ready.catch(() => undefined);
      if (!options.keep && this.api && this.informer) {
        const ws = [...this.workers.values()].filter((w) => !w.done);
        await this.stop(ws.map((w) => w.name)).catch((e) => this.logger.error({ event: 'backend.close-failed', error: describeError(e) }, `stopping worker pods failed: ${describeError(e)}`));
        // Bounded, and the bound is cancelled once they are gone (a live timer would keep the
        // process up for the whole bound after everything was done).
        let bound: Subscription | undefined;
        await Promise.race([Promise.all(ws.map((w) => w.gone)), new Promise<void>((r) => (bound = timer((this.o.gracePeriod + 60) * 1000, this.rx).subscribe(() => r())))]);
        bound?.unsubscribe();
      }
    }
    for (const w of this.workers.values()) w.deadline?.unsubscribe();
    this.informer?.stop();
    await this.lock?.release();
    this.subject.complete();
  }

  /**
   * What `kill -9` leaves (for tests): stops watching and renewing without a single API call;
   * the pods keep running and the lease expires.
   */
  abandon(): void {
    this.closed = true;
    for (const w of this.workers.values()) w.deadline?.unsubscribe();
    this.informer?.stop();
    this.lock?.abandon();
  }

  /** The lease was lost: stop acting at once (another replica owns the cluster now). */
  private fence(why: string): void {
    if (this.fenced) return;
    this.fenced = true;
    for (const w of this.workers.values()) w.deadline?.unsubscribe();
    this.informer?.stop();
    const err = new EbbtideError('CLUSTER_LOCKED', `${why}; this ebbtide no longer acts on cluster ${this.o.cluster}`, {
      hint: 'restart it: it then waits as a standby (leader election) or is refused while the other holds the cluster',
    });
    this.logger.error({ event: 'backend.lease-lost', reason: why }, err.message);
    this.subject.error(err);
  }
}
