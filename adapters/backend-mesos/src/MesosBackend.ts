import 'reflect-metadata';
import { hostname } from 'node:os';
import { inject, injectable } from 'tsyringe';
import { type Observable, type SchedulerLike, Subject, type Subscription, defer, startWith, timer } from 'rxjs';
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
  type StopOptions,
  type WorkerSpec,
  describeError,
  formatDuration,
} from '@ebbtide/core';
import type { MesosBackendOptions } from './config.js';
import { FrameworkStateFile } from './FrameworkStateFile.js';
import { MesosHttp } from './MesosHttp.js';
import { MesosSubscription } from './MesosSubscription.js';
import { ACTIVE_STATES, type MesosEvent, type Offer, type OperatorTask, type TaskStatus } from './mesosTypes.js';
import { offerSize, packOffer } from './packOffer.js';
import { taskInfo, taskSize } from './taskInfo.js';
import { taskTransition } from './taskTransition.js';

interface Worker {
  name: string;
  spec?: WorkerSpec;
  cpus: number;
  mem: number;
  status: BackendWorkerStatus;
  /** Set while the worker waits in the queue for an offer that fits. */
  queuedAt?: number;
  /** An ACCEPT launching it was sent (and not known to have been dropped). */
  launched: boolean;
  agentId?: string;
  stopRequested: boolean;
  /** The master reported a state of its task at least once. */
  reported: boolean;
  /** A KILL was sent (re-sent after a resubscription until the task ends). */
  killSent: boolean;
  /** A retired worker's wait for its own exit before the KILL. */
  killDelay?: Subscription;
  deadline?: Subscription;
  exited: Promise<void>;
  resolveExited: () => void;
}

/** Refusal of offers we decline: short while workers still wait (other agents may fit them), long when nothing is wanted. */
const REFUSE_WANTED_S = 5;
const REFUSE_IDLE_S = 120;
/** Leftovers of an accepted offer come back quickly while workers still wait. */
const REFUSE_AFTER_ACCEPT_S = 1;
/** stop() waits for TASK_KILLED at most the grace period plus this. */
const STOP_MARGIN_MS = 30_000;


/**
 * `backend.type: mesos` — each worker is a Mesos task of one framework per cluster, driven
 * through the v1 scheduler HTTP API.
 *
 * - The framework subscribes with `failoverTimeout`; its id is kept in the cluster's state file
 *   (`stateDir/<cluster>/framework.json`, next to the `lock`), so a restarted ebbtide
 *   re-subscribes as the same framework and adopts its running tasks (`adopt`).
 * - `start` queues workers (pending); each OFFERS event packs queued workers into the offers by
 *   cpus/mem with the offer's role and LAUNCHes them with the command executor (task id = worker
 *   name). Offers not needed are DECLINEd; with nothing queued the framework SUPPRESSes offers and
 *   REVIVEs when workers are queued again. A worker no offer fits within `pendingTimeout` is
 *   reported failed with `capacity`.
 * - Every update with a uuid is ACKNOWLEDGEd. TASK_RUNNING → running, TASK_KILLING → stopping,
 *   terminal states → exited (failed unless we killed it). A launch lost to a rescinded offer
 *   (TASK_DROPPED, REASON_INVALID_OFFERS) goes back to the queue; a task on a lost agent
 *   (TASK_UNREACHABLE) is reported failed and killed if it ever shows up again.
 * - `stop` KILLs with a kill policy of `gracePeriod` (SIGTERM, then SIGKILL) and resolves on
 *   TASK_KILLED. After every (re)subscription the backend RECONCILEs (its launched tasks
 *   explicitly, then implicitly) and re-sends pending KILLs.
 * - `close` kills every worker and TEARDOWNs the framework; with `keep` it only disconnects, and
 *   the master keeps the tasks for `failoverTimeout`.
 */
@injectable()
export class MesosBackend implements ResourceBackend {
  private readonly workers = new Map<string, Worker>();
  private readonly changes = new Subject<BackendWorkerStatus[]>();
  readonly status$: Observable<BackendWorkerStatus[]> = defer(() => this.changes.pipe(startWith(this.view())));
  private readonly http: MesosHttp;
  private readonly sub: MesosSubscription;
  private state?: FrameworkStateFile;
  private cluster?: string;
  private suppressed = false;
  /** Names given up while their task may live (lost agent): killed on sight. */
  private readonly killOnSight = new Set<string>();
  private largestOffer?: { cpus: number; mem: number };
  private closed = false;
  private superseded = false;
  /** The scheduler this ebbtide's workers connect to (from adopt). */
  private scheduler?: string;
  /** The framework's tasks were started for another scheduler: they are killed, not adopted. */
  private staleTasks = false;

  constructor(
    @inject(PLUGIN_OPTIONS) private readonly options: MesosBackendOptions,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RX_SCHEDULER) private readonly rx: SchedulerLike,
  ) {
    this.http = new MesosHttp({ master: options.master, principal: options.principal, secret: options.secret, requestTimeoutMs: options.requestTimeout * 1000, rx });
    this.sub = new MesosSubscription(this.http, rx, logger, {
      frameworkInfo: (id) => this.frameworkInfo(id),
      subscribed: (id) => this.onSubscribed(id),
      event: (e) => this.onEvent(e),
    });
  }

  /** The framework id (after the first SUBSCRIBED). */
  get frameworkId(): string | undefined {
    return this.sub.frameworkId;
  }

  /** The cluster's state file (after adopt or the first start). */
  get stateFile(): FrameworkStateFile | undefined {
    return this.state;
  }

  // ------------------------------------------------------------------ view

  private view(): BackendWorkerStatus[] {
    return [...this.workers.values()].map((w) => ({ ...w.status }));
  }

  private publish(): void {
    const view = this.view();
    // Exited workers are reported once, then forgotten, so a name may be started again.
    for (const w of [...this.workers.values()]) if (w.status.phase === 'exited') this.workers.delete(w.name);
    this.changes.next(view);
  }

  private exit(w: Worker, status: Omit<BackendWorkerStatus, 'name' | 'phase'>): void {
    if (w.status.phase === 'exited') return;
    w.deadline?.unsubscribe();
    w.killDelay?.unsubscribe();
    w.queuedAt = undefined;
    w.status = { name: w.name, phase: 'exited', ...status };
    const fields = { event: 'worker.exited', worker: w.name, exitCode: status.exitCode, reason: status.reason };
    if (status.failed) this.logger.error(fields, 'worker task failed');
    else this.logger.info(fields, 'worker task ended');
    w.resolveExited();
  }

  private newWorker(name: string, cpus: number, mem: number, phase: BackendWorkerStatus['phase'], spec?: WorkerSpec): Worker {
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const w: Worker = { name, cpus, mem, status: { name, phase }, launched: false, stopRequested: false, reported: false, killSent: false, exited, resolveExited };
    if (spec) w.spec = spec;
    this.workers.set(name, w);
    return w;
  }

  private queue(): Worker[] {
    return [...this.workers.values()].filter((w) => w.queuedAt !== undefined && !w.launched && !w.stopRequested).sort((a, b) => a.queuedAt! - b.queuedAt!);
  }

  // ------------------------------------------------------------------ framework

  private frameworkInfo(id: string | undefined): Record<string, unknown> {
    const cluster = this.cluster ?? this.options.cluster;
    const info: Record<string, unknown> = {
      user: this.options.user,
      name: this.options.frameworkName || `ebbtide ${cluster}`,
      failover_timeout: this.options.failoverTimeout,
      checkpoint: true,
      roles: [this.options.role],
      hostname: hostname(),
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'TASK_KILLING_STATE' }, { type: 'PARTITION_AWARE' }],
      labels: { labels: [{ key: 'ebbtide.cluster', value: cluster }] },
    };
    if (id) info.id = { value: id };
    if (this.options.principal) info.principal = this.options.principal;
    return info;
  }

  private ensureState(cluster: string): FrameworkStateFile {
    if (this.state && this.state.cluster !== cluster) {
      throw new EbbtideError('BACKEND_START_FAILED', `mesos backend already serves cluster "${this.state.cluster}", not "${cluster}"`);
    }
    if (!this.state) {
      this.cluster = cluster;
      this.state = new FrameworkStateFile(this.options.stateDir, cluster);
      this.state.lock();
      const rec = this.state.read();
      if (rec) this.sub.frameworkId = rec.frameworkId;
    }
    return this.state;
  }

  private onSubscribed(frameworkId: string): void {
    try {
      const scheduler = this.scheduler ?? this.state?.read()?.scheduler;
      this.state?.write({ frameworkId, master: this.http.leader, ...(scheduler ? { scheduler } : {}) });
    } catch (e) {
      this.logger.warn({ event: 'state.write-failed', error: describeError(e) }, 'cannot write the framework state file');
    }
    // A new subscription starts with offers unsuppressed.
    this.suppressed = false;
    const launched = [...this.workers.values()].filter((w) => w.launched && w.status.phase !== 'exited');
    if (launched.length) {
      this.send('RECONCILE', { reconcile: { tasks: launched.map((w) => ({ task_id: { value: w.name }, ...(w.agentId ? { agent_id: { value: w.agentId } } : {}) })) } });
    }
    this.send('RECONCILE', { reconcile: { tasks: [] } });
    for (const w of launched) if (w.killSent) this.kill(w);
    if (this.queue().length === 0) this.suppress();
  }

  /** A call whose failure is logged only: the next (re)subscription repairs the state. */
  private send(type: string, body: Record<string, unknown>): Promise<boolean> {
    return this.sub.call(type, body).then(
      () => true,
      (e: unknown) => {
        this.logger.warn({ event: 'mesos.call-failed', call: type, error: describeError(e) }, 'a call to the Mesos master failed');
        return false;
      },
    );
  }

  private suppress(): void {
    if (this.suppressed || !this.sub.subscribed) return;
    this.suppressed = true;
    void this.send('SUPPRESS', { suppress: { roles: [this.options.role] } }).then((ok) => {
      if (!ok) this.suppressed = false;
    });
  }

  private revive(): void {
    if (!this.suppressed || !this.sub.subscribed) return;
    this.suppressed = false;
    void this.send('REVIVE', { revive: { roles: [this.options.role] } }).then((ok) => {
      if (!ok) this.suppressed = true;
    });
  }

  // ------------------------------------------------------------------ events

  private onEvent(e: MesosEvent): void {
    switch (e.type) {
      case 'OFFERS':
        return this.onOffers(e.offers?.offers ?? []);
      case 'UPDATE':
        if (e.update?.status) this.onUpdate(e.update.status);
        return;
      case 'INVERSE_OFFERS': {
        const ids = (e.inverse_offers?.inverse_offers ?? []).map((o) => o.id);
        if (ids.length) void this.send('DECLINE_INVERSE_OFFERS', { decline_inverse_offers: { inverse_offer_ids: ids } });
        return;
      }
      case 'FAILURE':
        this.logger.warn({ event: 'mesos.failure', agent: e.failure?.agent_id?.value, executor: e.failure?.executor_id?.value }, 'the Mesos master reports an agent or executor failure');
        return;
      case 'ERROR':
        return this.onError(e.error?.message ?? '');
      default:
        // RESCIND (we keep no offers), MESSAGE, UPDATE_OPERATION_STATUS: nothing to do.
        return;
    }
  }

  private onError(message: string): void {
    if (/failed over/i.test(message)) {
      // Another scheduler subscribed with our framework id: another ebbtide drives the cluster now.
      this.superseded = true;
      this.sub.stop();
      this.logger.error({ event: 'mesos.superseded', frameworkId: this.sub.frameworkId, message }, 'another scheduler took over this framework; this backend stops driving it');
      return;
    }
    if (/removed|torn ?down/i.test(message)) {
      // The framework is gone (failover_timeout passed, or an operator tore it down): so are its tasks.
      this.logger.error({ event: 'mesos.framework-removed', frameworkId: this.sub.frameworkId, message }, 'the Mesos master removed the framework; subscribing as a new one');
      this.sub.frameworkId = undefined;
      this.state?.clear();
      for (const w of this.workers.values()) {
        if (!w.launched) continue;
        if (w.stopRequested) this.exit(w, { failed: false, exitCode: null, reason: 'framework removed' });
        else this.exit(w, { failed: true, exitCode: null, reason: `the Mesos master removed the framework: ${message}` });
      }
      this.publish();
      this.sub.drop('framework removed');
      return;
    }
    this.logger.error({ event: 'mesos.error', message }, 'the Mesos master sent an ERROR; resubscribing');
    this.sub.drop(`ERROR: ${message}`);
  }

  private onOffers(offers: Offer[]): void {
    const declines: Array<{ value: string }> = [];
    let changed = false;
    for (const offer of offers) {
      const size = offerSize(offer.resources ?? []);
      if (!this.largestOffer || size.cpus * size.mem > this.largestOffer.cpus * this.largestOffer.mem) this.largestOffer = size;
      const queue = this.queue();
      if (queue.length === 0 || this.closed) {
        declines.push(offer.id);
        continue;
      }
      const packed = packOffer(offer.resources ?? [], queue.map((w) => ({ name: w.name, cpus: w.cpus, mem: w.mem })));
      if (packed.length === 0) {
        declines.push(offer.id);
        continue;
      }
      const agentId = offer.agent_id.value;
      const launch: Worker[] = [];
      const infos = packed.map((p) => {
        const w = this.workers.get(p.name)!;
        w.launched = true;
        w.agentId = agentId;
        w.deadline?.unsubscribe();
        launch.push(w);
        return taskInfo(w.spec!, agentId, p.resources, this.cluster ?? this.options.cluster, this.options);
      });
      changed = true;
      this.logger.info({ event: 'worker.launch', workers: launch.map((w) => w.name), agent: agentId, offer: offer.id.value }, 'launching worker tasks');
      const refuse = this.queue().length ? REFUSE_AFTER_ACCEPT_S : REFUSE_IDLE_S;
      void this.sub
        .call('ACCEPT', { accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: infos } }], filters: { refuse_seconds: refuse } } })
        .catch((e: unknown) => {
          const data = (e as EbbtideError).data ?? {};
          this.logger.warn({ event: 'mesos.call-failed', call: 'ACCEPT', error: describeError(e) }, 'launching worker tasks failed');
          if (data.notSent) {
            // Never sent (the subscription dropped meanwhile; its offers died with it).
            for (const w of launch) this.requeue(w);
            this.publish();
          } else if (typeof data.status === 'number') {
            // The master refused the call: nothing was launched; the workers wait for the next
            // offer. The offer is still outstanding there: give it back so it can come again.
            for (const w of launch) this.requeue(w);
            this.publish();
            void this.send('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } } });
          } else {
            // No answer: the launch may have happened. Ask; unknown tasks come back as TASK_GONE/UNKNOWN.
            void this.send('RECONCILE', { reconcile: { tasks: launch.map((w) => ({ task_id: { value: w.name }, agent_id: { value: agentId } })) } });
          }
        });
    }
    if (declines.length) {
      void this.send('DECLINE', { decline: { offer_ids: declines, filters: { refuse_seconds: this.queue().length ? REFUSE_WANTED_S : REFUSE_IDLE_S } } });
    }
    if (this.queue().length === 0) this.suppress();
    if (changed) this.publish();
  }

  /** Back into the queue, keeping its place and its pending deadline. */
  private requeue(w: Worker): void {
    if (w.status.phase === 'exited') return;
    w.launched = false;
    w.reported = false;
    w.agentId = undefined;
    w.queuedAt ??= this.rx.now();
    w.status = { name: w.name, phase: 'pending' };
    this.armDeadline(w);
    this.revive();
  }

  /** Starvation watch: `pendingTimeout` after the worker was first queued (what is left of it). */
  private armDeadline(w: Worker): void {
    w.deadline?.unsubscribe();
    const left = Math.max(0, this.options.pendingTimeout * 1000 - (this.rx.now() - (w.queuedAt ?? this.rx.now())));
    w.deadline = timer(left, this.rx).subscribe(() => this.starve(w));
  }

  private onUpdate(s: TaskStatus): void {
    if (s.uuid && s.agent_id) {
      void this.send('ACKNOWLEDGE', { acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid } });
    }
    const name = s.task_id.value;
    const w = this.workers.get(name);
    if (!w) return this.onStrayUpdate(s);
    if (s.agent_id) w.agentId = s.agent_id.value;
    const t = taskTransition(s, w);
    if (t.kind === 'none') return;
    if (t.kind !== 'relaunch') w.reported = true;
    if (!w.launched) {
      // The master knows a launch we were not sure of (an unanswered ACCEPT): it happened.
      w.launched = true;
      w.queuedAt = undefined;
      w.deadline?.unsubscribe();
    }
    switch (t.kind) {
      case 'phase':
        if (w.status.phase !== t.phase) {
          w.status = { name, phase: t.phase };
          if (t.phase === 'running') this.logger.info({ event: 'worker.started', worker: name, agent: w.agentId }, 'worker task running');
        }
        break;
      case 'relaunch':
        this.logger.warn({ event: 'worker.relaunch', worker: name, reason: t.reason }, 'launch lost (offer rescinded); queued again');
        this.requeue(w);
        break;
      case 'exited':
        if (t.mayLive) {
          this.killOnSight.add(name);
          this.kill(w);
        }
        this.exit(w, { failed: t.failed, exitCode: t.exitCode, reason: t.reason });
        break;
    }
    this.publish();
  }

  /** An update about a task we hold no worker for. */
  private onStrayUpdate(s: TaskStatus): void {
    const name = s.task_id.value;
    if (!ACTIVE_STATES.has(s.state)) return;
    const ours = this.cluster !== undefined && name.startsWith(`${this.cluster}-`);
    if (this.killOnSight.has(name) || this.closed || !ours || this.staleTasks) {
      // (A task already being killed is left to finish its grace period.)
      if ((ours || this.killOnSight.has(name)) && s.state !== 'TASK_KILLING') {
        this.logger.warn({ event: 'worker.kill-stray', worker: name, state: s.state }, 'killing a task that should not run');
        void this.send('KILL', {
          kill: { task_id: s.task_id, ...(s.agent_id ? { agent_id: s.agent_id } : {}), kill_policy: { grace_period: { nanoseconds: Math.round(this.options.gracePeriod * 1e9) } } },
        });
      }
      return;
    }
    // One of ours that we did not know (found by reconciliation after a restart): adopt it.
    const w = this.newWorker(name, 0, 0, s.state === 'TASK_RUNNING' ? 'running' : s.state === 'TASK_KILLING' ? 'stopping' : 'pending');
    w.launched = true;
    w.reported = true;
    if (s.agent_id) w.agentId = s.agent_id.value;
    this.logger.info({ event: 'worker.adopted', worker: name, state: s.state }, 'adopted a running worker task');
    this.publish();
  }

  private kill(w: Worker): void {
    w.killSent = true;
    void this.send('KILL', {
      kill: {
        task_id: { value: w.name },
        ...(w.agentId ? { agent_id: { value: w.agentId } } : {}),
        kill_policy: { grace_period: { nanoseconds: Math.round(this.options.gracePeriod * 1e9) } },
      },
    });
  }

  // ------------------------------------------------------------------ ResourceBackend

  async adopt(options: AdoptOptions): Promise<BackendWorkerStatus[]> {
    const state = this.ensureState(options.cluster);
    const before = state.read()?.scheduler;
    if (options.scheduler) this.scheduler = options.scheduler;
    // Workers started for another scheduler (an embedded one that died with its ebbtide) would
    // never connect to this one: they are killed instead of adopted.
    this.staleTasks = !!(options.scheduler && before && before !== options.scheduler);
    try {
      this.sub.start();
      await this.sub.whenSubscribed(Math.max(this.options.requestTimeout, 10) * 1000);
      const fid = this.sub.frameworkId!;
      const r = await this.http.get(`/master/tasks?framework_id=${encodeURIComponent(fid)}&limit=100000`).catch((e: unknown) => ({ status: 0, body: describeError(e) }));
      if (r.status === 200) {
        const tasks = (JSON.parse(r.body) as { tasks?: OperatorTask[] }).tasks ?? [];
        for (const t of tasks) {
          if (t.framework_id !== fid || !t.id.startsWith(`${options.cluster}-`) || this.workers.has(t.id)) continue;
          if (this.staleTasks && ACTIVE_STATES.has(t.state)) {
            this.logger.info({ event: 'worker.kill-stale', worker: t.id, scheduler: before }, 'killing a worker task of another scheduler');
            this.killOnSight.add(t.id);
            void this.send('KILL', { kill: { task_id: { value: t.id }, ...(t.slave_id ? { agent_id: { value: t.slave_id } } : {}), kill_policy: { grace_period: { nanoseconds: Math.round(this.options.gracePeriod * 1e9) } } } });
            continue;
          }
          if (t.state === 'TASK_UNREACHABLE') {
            this.killOnSight.add(t.id);
            continue;
          }
          if (!ACTIVE_STATES.has(t.state)) continue;
          const w = this.newWorker(t.id, 0, 0, t.state === 'TASK_RUNNING' ? 'running' : t.state === 'TASK_KILLING' ? 'stopping' : 'pending');
          w.launched = true;
          w.reported = true;
          if (t.slave_id) w.agentId = t.slave_id;
          this.logger.info({ event: 'worker.adopted', worker: t.id, state: t.state }, 'adopted a running worker task');
        }
      } else {
        // Reconciliation (sent on SUBSCRIBED) still finds them; they are adopted as its answers arrive.
        this.logger.warn({ event: 'mesos.tasks-unlisted', status: r.status, body: r.body.slice(0, 200) }, 'cannot list the framework\'s tasks on the master; relying on reconciliation');
      }
      this.publish();
      return this.view();
    } catch (e) {
      this.sub.stop();
      state.unlock();
      this.state = undefined;
      throw e;
    }
  }

  async start(specs: WorkerSpec[]): Promise<void> {
    if (this.closed) throw new EbbtideError('BACKEND_START_FAILED', 'mesos backend is closed');
    if (this.superseded) throw new EbbtideError('BACKEND_START_FAILED', 'another scheduler took over this cluster\'s Mesos framework');
    this.ensureState(this.cluster ?? this.options.cluster);
    this.sub.start();
    let added = false;
    for (const spec of specs) {
      const existing = this.workers.get(spec.name);
      if (existing && existing.status.phase !== 'exited') continue;
      const { cpus, mem } = taskSize(spec, this.options);
      const w = this.newWorker(spec.name, cpus, mem, 'pending', spec);
      w.queuedAt = this.rx.now();
      this.armDeadline(w);
      this.killOnSight.delete(spec.name);
      added = true;
    }
    if (added) {
      this.revive();
      this.publish();
    }
  }

  private starve(w: Worker): void {
    if (w.launched || this.workers.get(w.name) !== w || w.status.phase === 'exited') return;
    const largest = this.largestOffer ? `the largest offer seen had cpus=${this.largestOffer.cpus} mem=${this.largestOffer.mem}MB` : 'no offer arrived';
    this.exit(w, {
      failed: true,
      capacity: true,
      exitCode: null,
      reason: `pending past its ${formatDuration(this.options.pendingTimeout)} deadline: no Mesos offer fit cpus=${w.cpus} mem=${w.mem}MB (role ${this.options.role}); ${largest}`,
    });
    this.publish();
    if (this.queue().length === 0) this.suppress();
  }

  /**
   * KILLs workers (SIGTERM, then SIGKILL after `gracePeriod`) and resolves once they ended.
   * Workers the scheduler has `retired` are closing on its request already: they get
   * `gracePeriod` to end on their own before the KILL, since a signal during a worker's own
   * close can wedge it.
   */
  async stop(names: string[], options: StopOptions = {}): Promise<void> {
    const waits: Promise<void>[] = [];
    let changed = false;
    for (const name of names) {
      const w = this.workers.get(name);
      if (!w || w.status.phase === 'exited') continue;
      changed = true;
      if (!w.launched) {
        w.stopRequested = true;
        this.exit(w, { failed: false, exitCode: null, reason: 'cancelled before launch' });
        continue;
      }
      if (!w.stopRequested) {
        w.stopRequested = true;
        w.status = { name, phase: 'stopping' };
        if (options.retired) {
          w.killDelay = timer(this.options.gracePeriod * 1000, this.rx).subscribe(() => {
            this.logger.warn({ event: 'worker.term', worker: name, grace: this.options.gracePeriod }, 'retired worker did not exit by itself; killing its task');
            this.kill(w);
          });
        } else {
          this.kill(w);
        }
      }
      waits.push(w.exited);
    }
    if (changed) this.publish();
    if (this.queue().length === 0) this.suppress();
    if (waits.length === 0) return;
    const bound = this.options.gracePeriod * (options.retired ? 2 : 1) * 1000 + STOP_MARGIN_MS;
    let t: Subscription | undefined;
    const late = new Promise<void>((resolve) => {
      t = timer(bound, this.rx).subscribe(() => {
        this.logger.warn({ event: 'worker.stop-unconfirmed', workers: names, waitedMs: bound }, 'the Mesos master has not confirmed the kill yet');
        resolve();
      });
    });
    await Promise.race([Promise.all(waits), late]);
    t?.unsubscribe();
  }

  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers.values()) w.deadline?.unsubscribe();
    if (options.keep || this.superseded) {
      if (this.workers.size) this.logger.info({ event: 'backend.closed', keep: true, frameworkId: this.sub.frameworkId, workers: this.workers.size }, 'leaving the worker tasks running for the next ebbtide');
    } else {
      // Retired workers still given time to end on their own are killed now.
      for (const w of this.workers.values()) {
        if (w.killDelay && !w.killSent) {
          w.killDelay.unsubscribe();
          this.kill(w);
        }
      }
      await this.stop([...this.workers.keys()]);
      if (this.sub.subscribed) {
        const ok = await this.send('TEARDOWN', {});
        if (ok) this.state?.clear();
      } else if (this.sub.frameworkId) {
        this.logger.warn({ event: 'mesos.teardown-skipped', frameworkId: this.sub.frameworkId }, 'not subscribed: the framework is left to the master\'s failover timeout');
      }
    }
    this.sub.stop();
    this.state?.unlock();
    this.changes.complete();
  }

  /**
   * For tests of adoption: leaves this backend as a `kill -9` of its ebbtide would — the
   * subscription cut without TEARDOWN (the master keeps the tasks), the lock's pid rewritten to
   * `deadPid`, nothing closed.
   */
  crashForTests(deadPid: number): void {
    this.closed = true;
    this.sub.stop();
    this.state?.forgeDeadOwner(deadPid);
    for (const w of this.workers.values()) w.deadline?.unsubscribe();
    this.changes.complete();
  }
}
