import 'reflect-metadata';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject, injectable } from 'tsyringe';
import { BehaviorSubject, type Observable, type SchedulerLike, type Subscription, timer } from 'rxjs';
import {
  type AdoptOptions,
  type BackendWorkerPhase,
  type BackendWorkerStatus,
  type CloseOptions,
  EbbtideError,
  LOGGER,
  type LockFile,
  type Logger,
  PLUGIN_OPTIONS,
  RX_SCHEDULER,
  type ResourceBackend,
  type WorkerSpec,
  describeError,
  formatDuration,
} from '@ebbtide/core';
import { type YarnBackendOptions, checkYarnName, containerMemoryMb } from './config.js';
import { describeExit } from './exitStatus.js';
import { type ComponentView, indexOf, liveIndices, nameOf, planAddition, planRemoval } from './instanceNames.js';
import { INSTANCE_NAME_TOKEN, buildLaunchCommand, resolveCommand } from './launchCommand.js';
import { RmClient, apiError, diagnosticsOf } from './RmClient.js';
import { serviceLock } from './ServiceLock.js';
import { type ApiComponent, type ApiContainer, type ApiService, ENDED_CONTAINER_STATES, ENDED_STATES, RUNNING_STATES, SERVICES, servicePath } from './servicesApi.js';
import { YarnProbe } from './YarnProbe.js';

interface Worker {
  name: string;
  index: number;
  phase: BackendWorkerPhase;
  /** The container that runs it, once YARN has allocated one. */
  containerId?: string;
  /** Injected-clock milliseconds when it was asked for (or adopted). */
  requestedAt: number;
  stopping: boolean;
  /** Its pending deadline passed; the reason is being looked up. */
  givingUp?: boolean;
  /** Injected-clock ms when a stopping worker's container left the RM's list. */
  goneAt?: number;
}

/** Time given to a NodeManager to kill a released container's processes. */
const STOP_SETTLE_MS = 3000;

/** What the last read of the service said. */
interface View {
  service: ApiService;
  component: ApiComponent;
  names: { count: number; decommissioned: Set<number> };
  live: Set<number>;
  containers: Map<string, ApiContainer>;
  /** The service AM runs (the view's instances are YARN's, not only what we submitted). */
  amUp: boolean;
}

/** Environment variable names the worker component gets (besides backend.yarn.env and the spec's env). */
export const WORKER_NAME_ENV = 'EBBTIDE_WORKER_NAME';
export const SCHEDULER_ENV = 'EBBTIDE_SCHEDULER';

/**
 * `backend.type: yarn` — the cluster's workers are the instances of one component of one YARN
 * service, driven through the Services REST API of the ResourceManager.
 *
 * Names: the component is named after the cluster, so YARN's instance names (`{component}-{i}`)
 * have the core's form `{cluster}-{i}`, and each worker gets its instance name as its scheduler
 * name (`${COMPONENT_INSTANCE_NAME}`). `instanceNames.ts` makes YARN hand out exactly the names
 * the core asked for.
 *
 * - `start` creates the service (202 = submitted) or flexes the component up; workers are pending
 *   until YARN gives them a READY container, and given up as capacity-limited after
 *   `pendingTimeout`.
 * - `stop` removes exactly the named instances (decommission, or a flex down when they are the
 *   newest) and reports them exited once their containers are gone from the RM.
 * - A worker whose container ends unexpectedly is reported failed with YARN's exit status; YARN
 *   relaunches it under the same name, which a later `start` of that name takes back.
 * - `adopt` finds the service a previous ebbtide left; `close` destroys the service, or leaves it
 *   running with `keep`.
 */
@injectable()
export class YarnBackend implements ResourceBackend {
  private readonly subject = new BehaviorSubject<BackendWorkerStatus[]>([]);
  readonly status$: Observable<BackendWorkerStatus[]> = this.subject.asObservable();
  private readonly rm: RmClient;
  private readonly probe: YarnProbe;
  private readonly workers = new Map<string, Worker>();
  /** Names reported failed that YARN relaunches: injected-clock ms of the failure. */
  private readonly relaunching = new Map<string, number>();
  private component?: string;
  private service?: string;
  private lock?: LockFile;
  private view?: View;
  /** Set once the service exists (or has been submitted) in this backend's lifetime. */
  private spec?: WorkerSpec;
  private ops: Promise<unknown> = Promise.resolve();
  private pollSub?: Subscription;
  private pollFailures = 0;
  private closed = false;
  private blindSince?: number;

  constructor(
    @inject(PLUGIN_OPTIONS) private readonly options: YarnBackendOptions,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RX_SCHEDULER) private readonly rx: SchedulerLike,
  ) {
    this.rm = new RmClient(options.resourceManagers, options.user, options.requestTimeout, rx, logger);
    this.probe = new YarnProbe(this.rm, logger);
  }

  /** The YARN service name and component name, once known. */
  get names(): { service?: string; component?: string } {
    return { service: this.service, component: this.component };
  }

  // ---- identity, lock -------------------------------------------------------------------------

  private identify(cluster: string): void {
    if (this.component) return;
    checkYarnName('cluster.name', cluster);
    // YARN refuses a component named like its service ("Component name … must not be same as
    // service name").
    const service = this.options.serviceName || `ebbtide-${cluster}`;
    checkYarnName('backend.yarn.serviceName', service);
    if (service === cluster) {
      throw new EbbtideError('CONFIG_INVALID', `backend.yarn.serviceName: "${service}" is the cluster's name, which names the worker component; YARN needs the service named otherwise`, {
        key: 'backend.yarn.serviceName',
      });
    }
    this.component = cluster;
    this.service = service;
    this.lock = serviceLock(this.options.stateDir, this.rm.current, this.options.user, service);
    this.lock.acquire(Date.now());
  }

  private get svc(): string {
    return this.service!;
  }
  private get comp(): string {
    return this.component!;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.ops.then(fn, fn);
    this.ops = run.catch(() => undefined);
    return run;
  }

  // ---- reading the service --------------------------------------------------------------------

  /** GET the service: its view, `null` when it does not exist, or throws when YARN is unreachable. */
  private async read(): Promise<View | null> {
    const res = await this.rm.request(servicePath(this.svc));
    if (res.status === 404) return null;
    if (res.status !== 200) throw apiError(`reading service ${this.svc}`, res);
    const service = res.json as ApiService;
    const component = service.components?.find((c) => c.name === this.comp);
    if (!component && !RUNNING_STATES.has(service.state ?? '') && !ENDED_STATES.has(service.state ?? '')) {
      // Submitted, AM not running yet: YARN shows no components. Keep what we knew.
      const names = this.view?.names ?? { count: 0, decommissioned: new Set<number>() };
      return { service, component: this.view?.component ?? { name: this.comp }, names, live: new Set(liveIndices(names)), containers: new Map(), amUp: false };
    }
    if (!component) {
      throw new EbbtideError('BACKEND_API', `YARN service ${this.svc} has no component ${this.comp}; it was not made by this ebbtide cluster`, {
        data: { retryable: false },
        hint: 'set backend.yarn.serviceName to a name of its own, or destroy that service',
      });
    }
    const decommissioned = new Set<number>();
    for (const n of component.decommissioned_instances ?? []) {
      const i = indexOf(this.comp, n);
      if (i !== undefined) decommissioned.add(i);
    }
    const names = { count: component.number_of_containers ?? 0, decommissioned };
    const containers = new Map<string, ApiContainer>();
    for (const c of component.containers ?? []) containers.set(c.component_instance_name, c);
    return { service, component, names, live: new Set(liveIndices(names)), containers, amUp: RUNNING_STATES.has(service.state ?? '') };
  }

  // ---- adopt ---------------------------------------------------------------------------------

  async adopt(options: AdoptOptions): Promise<BackendWorkerStatus[]> {
    this.identify(options.cluster);
    return this.serialized(async () => {
      let view = await this.read();
      if (view && ENDED_STATES.has(view.service.state ?? '')) {
        this.logger.info({ event: 'yarn.service-ended', service: this.svc, state: view.service.state }, 'the YARN service an earlier ebbtide left has ended; destroying it');
        await this.destroy();
        view = null;
      }
      const env = view?.component.configuration?.env ?? {};
      if (view && options.scheduler && env[SCHEDULER_ENV] && env[SCHEDULER_ENV] !== options.scheduler) {
        this.logger.warn(
          { event: 'yarn.service-other-scheduler', service: this.svc, theirs: env[SCHEDULER_ENV], ours: options.scheduler },
          'the YARN service an earlier ebbtide left points its workers at another scheduler; destroying it',
        );
        await this.destroy();
        view = null;
      }
      this.view = view ?? undefined;
      const now = this.rx.now();
      for (const i of view?.live ?? []) {
        const name = nameOf(this.comp, i);
        const c = view!.containers.get(name);
        this.workers.set(name, { name, index: i, phase: c?.state === 'READY' ? 'running' : 'pending', ...(c ? { containerId: c.id } : {}), requestedAt: now, stopping: false });
      }
      if (this.workers.size) {
        this.logger.info({ event: 'yarn.adopted', service: this.svc, workers: [...this.workers.keys()] }, `adopted ${this.workers.size} instance(s) of YARN service ${this.svc}`);
      }
      this.ensurePolling();
      this.publish();
      return this.current();
    });
  }

  // ---- start / stop --------------------------------------------------------------------------

  async start(specs: WorkerSpec[]): Promise<void> {
    if (this.closed) throw new EbbtideError('BACKEND_START_FAILED', 'the YARN backend is closed');
    if (!specs.length) return;
    this.identify(specs[0]!.name.replace(/-\d+$/, ''));
    const fresh: WorkerSpec[] = [];
    for (const spec of specs) {
      const w = this.workers.get(spec.name);
      if (w && w.phase !== 'exited') continue; // already asked for: never a duplicate
      if (indexOf(this.comp, spec.name) === undefined) {
        throw new EbbtideError('BACKEND_START_FAILED', `worker name ${spec.name} does not have the form ${this.comp}-<number> that YARN gives the instances of component ${this.comp}`);
      }
      fresh.push(spec);
    }
    if (!fresh.length) return;
    this.spec ??= fresh[0];
    const now = this.rx.now();
    for (const spec of fresh) {
      const index = indexOf(this.comp, spec.name)!;
      if (this.relaunching.delete(spec.name)) {
        this.logger.info({ event: 'yarn.relaunch-taken', worker: spec.name }, 'taking back the instance YARN relaunched');
      }
      this.workers.set(spec.name, { name: spec.name, index, phase: 'pending', requestedAt: now, stopping: false });
    }
    this.publish();
    await this.serialized(() => this.reconcile());
    this.ensurePolling();
  }

  async stop(names: string[]): Promise<void> {
    let any = false;
    const now = this.rx.now();
    for (const name of names) {
      const w = this.workers.get(name);
      if (w) {
        if (w.phase === 'exited' || w.stopping) continue;
        w.stopping = true;
        w.phase = 'stopping';
        any = true;
      } else if (this.relaunching.delete(name)) {
        // Reported failed already; removing it from YARN needs no report.
        any = true;
      } else {
        const i = this.component ? indexOf(this.comp, name) : undefined;
        if (i !== undefined && this.view?.live.has(i)) {
          // Alive in YARN though not tracked (the core adopted it from the scheduler): remove it too.
          this.workers.set(name, { name, index: i, phase: 'stopping', requestedAt: now, stopping: true });
          any = true;
        }
      }
    }
    if (!any) return;
    this.publish();
    await this.serialized(() => this.reconcile());
  }

  /** Indices that should be alive: asked for and not stopping, or relaunched and still wanted. */
  private desired(): Set<number> {
    const out = new Set<number>();
    for (const w of this.workers.values()) if (!w.stopping && w.phase !== 'exited') out.add(w.index);
    for (const name of this.relaunching.keys()) out.add(indexOf(this.comp, name)!);
    return out;
  }

  /**
   * Brings YARN to `desired()`: creates the service if there is none, then (once its AM runs)
   * removes what is not wanted and adds what is missing. Runs serialized.
   */
  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const want = this.desired();
    if (!this.view || ENDED_STATES.has(this.view.service.state ?? '')) {
      const view = await this.read();
      if (view && ENDED_STATES.has(view.service.state ?? '')) {
        await this.destroy();
        this.view = undefined;
      } else {
        this.view = view ?? undefined;
      }
    }
    if (!this.view) {
      if (want.size) await this.create(want);
      return;
    }
    if (!RUNNING_STATES.has(this.view.service.state ?? '')) {
      // Submitted, AM not up yet: flexing waits for the next poll. With nothing wanted any more
      // (every worker given up or stopped), a service still waiting for its AM is withdrawn.
      if (want.size === 0) {
        await this.destroy();
        this.view = undefined;
      }
      return;
    }
    const names = this.view.names;
    const remove = planRemoval(names, [...this.view.live].filter((i) => !want.has(i)));
    if (remove.decommission.length) {
      await this.decommission(remove.decommission);
      for (const i of remove.decommission) names.decommissioned.add(i);
      names.count -= remove.decommission.length;
    }
    if (remove.flexDown) {
      await this.flex(remove.count);
      names.count = remove.count;
    }
    const add = planAddition(names, want);
    for (const i of add.impossible) this.failWorker(nameOf(this.comp, i), `YARN never gives a decommissioned instance name (${nameOf(this.comp, i)}) again`, false);
    if (add.created.length) {
      if (add.skip.length) {
        await this.decommission(add.skip);
        for (const i of add.skip) names.decommissioned.add(i);
      }
      await this.flex(add.count);
      names.count = add.count;
    }
    this.view.live = new Set(liveIndices(names));
  }

  private launchEnv(spec: WorkerSpec): Record<string, string> {
    return {
      ...this.options.env,
      ...(spec.env ?? {}),
      [WORKER_NAME_ENV]: INSTANCE_NAME_TOKEN,
      [SCHEDULER_ENV]: spec.scheduler,
    };
  }

  private async create(want: Set<number>): Promise<void> {
    const spec = this.spec!;
    const empty: ComponentView = { count: 0, decommissioned: new Set() };
    const add = planAddition(empty, want);
    const here = dirname(fileURLToPath(import.meta.url));
    const first = resolveCommand(this.options.command[0]!, [process.cwd(), here]);
    const body: ApiService = {
      name: this.svc,
      version: '1',
      queue: this.options.queue,
      lifetime: this.options.lifetime > 0 ? Math.ceil(this.options.lifetime) : -1,
      components: [
        {
          name: this.comp,
          number_of_containers: add.count,
          decommissioned_instances: add.skip.map((i) => nameOf(this.comp, i)),
          launch_command: buildLaunchCommand(this.options.command, spec, first),
          resource: { cpus: this.options.cpus, memory: String(containerMemoryMb(this.options, spec.memoryLimit)) },
          restart_policy: 'ALWAYS',
          configuration: {
            env: this.launchEnv(spec),
            properties: {
              // No silent relaunch inside the same container (YARN's default: 10 retries 30 s
              // apart, invisible through the API): a failed worker's container ends, so it is
              // reported, and the AM relaunches the instance under the same name.
              'yarn.service.container-failure.retry.max': '0',
              // One crash-looping worker must not fail the whole service (YARN's default: 10).
              'yarn.service.container-failure-per-component.threshold': '1000',
            },
          },
        },
      ],
    };
    const res = await this.rm.request(SERVICES, { method: 'POST', body });
    if (res.status === 202 || res.status === 200) {
      this.logger.info({ event: 'yarn.service-submitted', service: this.svc, workers: add.count, rm: res.rm }, `submitted YARN service ${this.svc}: ${diagnosticsOf(res)}`);
      this.view = {
        service: { ...body, state: 'ACCEPTED' },
        component: body.components![0]!,
        names: { count: add.count, decommissioned: new Set(add.skip) },
        live: new Set(add.created),
        containers: new Map(),
        amUp: false,
      };
      return;
    }
    const diag = diagnosticsOf(res);
    if (res.status === 500 && /already taken/i.test(diag)) {
      // A create that timed out earlier went through after all (or another process made it):
      // read it and carry on with flexing.
      this.view = (await this.read()) ?? undefined;
      return;
    }
    if (/cannot accept submission|queue.*(full|limit)|exceeds? .*(limit|capacity)|maximum.*applications/i.test(diag)) {
      throw new EbbtideError('BACKEND_CAPACITY', `YARN refused service ${this.svc} in queue ${this.options.queue}: ${diag}`, { data: { status: res.status } });
    }
    if (res.status === 400) {
      throw new EbbtideError('CONFIG_INVALID', `YARN refused the service definition of ${this.svc}: ${diag}`, { key: 'backend.yarn', data: { status: res.status } });
    }
    throw apiError(`creating service ${this.svc}`, res);
  }

  private async flex(count: number): Promise<void> {
    const res = await this.rm.request(`${servicePath(this.svc)}/components/${encodeURIComponent(this.comp)}`, {
      method: 'PUT',
      body: { name: this.comp, number_of_containers: count },
    });
    if (res.status < 200 || res.status >= 300) throw apiError(`flexing ${this.svc}/${this.comp} to ${count}`, res);
    this.logger.debug({ event: 'yarn.flex', service: this.svc, count }, diagnosticsOf(res));
  }

  private async decommission(indices: readonly number[]): Promise<void> {
    const instances = indices.map((i) => nameOf(this.comp, i));
    const res = await this.rm.request(servicePath(this.svc), {
      method: 'PUT',
      body: { components: [{ name: this.comp, decommissioned_instances: instances }] },
    });
    // 202 in practice; OpenWhisk's client expects 200: any 2xx is success.
    if (res.status < 200 || res.status >= 300) throw apiError(`decommissioning ${instances.join(', ')}`, res);
    this.logger.debug({ event: 'yarn.decommission', service: this.svc, instances }, diagnosticsOf(res));
  }

  private async destroy(): Promise<void> {
    const res = await this.rm.request(servicePath(this.svc), { method: 'DELETE' });
    if (res.status === 404 || (res.status === 400 && /doesn't exist|not found/i.test(diagnosticsOf(res)))) return;
    if (res.status < 200 || res.status >= 300) throw apiError(`destroying service ${this.svc}`, res);
    this.logger.info({ event: 'yarn.service-destroyed', service: this.svc }, diagnosticsOf(res));
  }

  // ---- polling -------------------------------------------------------------------------------

  private ensurePolling(): void {
    if (this.pollSub || this.closed) return;
    this.schedulePoll(this.options.pollInterval * 1000);
  }

  private schedulePoll(ms: number): void {
    this.pollSub = timer(ms, this.rx).subscribe(() => {
      void this.serialized(() => this.poll()).then(
        () => {
          this.pollFailures = 0;
          this.blindSince = undefined;
          if (!this.closed) this.schedulePoll(this.options.pollInterval * 1000);
        },
        (e: unknown) => {
          this.pollFailures++;
          this.blindSince ??= this.rx.now();
          // Back off while YARN does not answer (RM down, AM restarting): no tight loop.
          const delay = Math.min(30_000, this.options.pollInterval * 1000 * 2 ** Math.min(this.pollFailures, 5));
          if (this.pollFailures === 1 || this.pollFailures % 10 === 0) {
            this.logger.warn({ event: 'yarn.poll-failed', service: this.svc, failures: this.pollFailures, retryIn: delay / 1000, error: describeError(e) }, 'cannot read the YARN service; holding every worker as it was');
          }
          if (!this.closed) this.schedulePoll(delay);
        },
      );
    });
  }

  /** One read of the service, turned into worker statuses; then reconcile. */
  private async poll(): Promise<void> {
    if (this.closed) return;
    const view = await this.read();
    const now = this.rx.now();
    let changed = false;
    if (!view) {
      this.view = undefined;
      for (const w of this.workers.values()) {
        if (w.phase === 'exited') continue;
        if (w.stopping) this.exitWorker(w, { failed: false, reason: 'stopped (service gone)' });
        else if (this.spec && w.phase === 'pending' && !w.containerId) continue; // not created yet: reconcile creates it
        else this.exitWorker(w, { failed: true, reason: `the YARN service ${this.svc} is gone (destroyed outside ebbtide?)` });
        changed = true;
      }
      this.relaunching.clear();
    } else {
      this.view = view;
      const state = view.service.state ?? '';
      if (ENDED_STATES.has(state)) {
        const why = state === 'FAILED' ? await this.probe.appDiagnostics(view.service.id) : '';
        for (const w of this.workers.values()) {
          if (w.phase === 'exited') continue;
          this.exitWorker(w, w.stopping ? { failed: false, reason: `stopped (service ${state})` } : { failed: true, reason: `the YARN service ${this.svc} is ${state}${why ? `: ${why}` : ''}` });
          changed = true;
        }
        this.relaunching.clear();
      } else {
        const running = view.service.id && [...this.workers.values()].some((w) => w.stopping) ? await this.probe.runningContainers(view.service.id) : undefined;
        for (const w of [...this.workers.values()]) {
          if (w.phase === 'exited') continue;
          if (this.updateWorker(w, view, running, now)) changed = true;
        }
        for (const [name, since] of [...this.relaunching]) {
          if (now - since >= this.options.relaunchGrace * 1000) {
            this.relaunching.delete(name);
            this.logger.warn(
              { event: 'yarn.relaunch-dropped', worker: name, grace: this.options.relaunchGrace },
              'YARN relaunched this worker after its failure but ebbtide did not ask for it again; removing it',
            );
          }
        }
      }
    }
    if (changed) this.publish();
    await this.reconcile();
  }

  /** Applies the service view to one worker; true when its reported status changed. */
  private updateWorker(w: Worker, view: View, running: Set<string> | undefined, now: number): boolean {
    const listed = view.containers.get(w.name);
    // The AM lists an ended container (FAILED/SUCCEEDED) under its instance until the relaunch
    // gets a new one. A worker without a container (a name taken back after its failure was
    // reported) must wait for that new one, not take the ended one, whose end would be
    // reported a second time.
    const c = listed && !w.containerId && ENDED_CONTAINER_STATES.has(listed.state ?? '') ? undefined : listed;
    if (w.stopping) {
      if (view.live.has(w.index)) return false;
      const containerGone = !w.containerId || !running || !running.has(w.containerId);
      if (!containerGone) return false;
      // The AM releases the container (and the RM forgets it) before the NodeManager has killed
      // the process (SIGTERM, then SIGKILL after yarn.nodemanager.sleep-delay-before-sigkill.ms,
      // 250 ms by default): give it STOP_SETTLE_MS before calling the worker gone.
      w.goneAt ??= now;
      if (w.containerId && now - w.goneAt < STOP_SETTLE_MS) return false;
      this.exitWorker(w, { failed: false, reason: 'stopped (instance removed from the YARN service)' });
      return true;
    }
    if (!view.amUp) {
      // Nothing to see before the AM runs; only the pending deadline applies.
      if (now - w.requestedAt >= this.options.pendingTimeout * 1000 && !w.givingUp) {
        w.givingUp = true;
        void this.reportPendingTimeout(w, view);
      }
      return false;
    }
    if (!view.live.has(w.index)) {
      this.exitWorker(w, { failed: true, reason: `instance ${w.name} is no longer in YARN service ${this.svc}` });
      return true;
    }
    // An instance without a container is relaunching after a failure, or its AM is recovering
    // after a restart (the same container comes back): only a different container, or ours in
    // a final state, tells that ours ended.
    if (w.containerId && c && (c.id !== w.containerId || ENDED_CONTAINER_STATES.has(c.state ?? ''))) {
      const ended = w.containerId;
      const succeeded = c?.id === ended && c.state === 'SUCCEEDED';
      // YARN relaunches the instance (restart_policy ALWAYS): it stays wanted, untracked, until
      // the core asks for the name again or relaunchGrace passes.
      this.relaunching.set(w.name, now);
      this.workers.delete(w.name);
      void this.reportContainerEnd(w.name, ended, succeeded, c?.hostname);
      return false; // reported once the exit status is known
    }
    if (!c && w.containerId) return false;
    if (c) {
      const phase: BackendWorkerPhase = c.state === 'READY' ? 'running' : 'pending';
      const newContainer = w.containerId !== c.id;
      w.containerId = c.id;
      if (phase !== w.phase) {
        w.phase = phase;
        if (phase === 'running') this.logger.info({ event: 'worker.started', worker: w.name, container: c.id, host: c.hostname }, 'worker container is READY');
        return true;
      }
      return newContainer;
    }
    if (now - w.requestedAt >= this.options.pendingTimeout * 1000 && !w.givingUp) {
      w.givingUp = true;
      void this.reportPendingTimeout(w, view);
    }
    return false;
  }

  private async reportContainerEnd(name: string, container: string, succeeded: boolean, host?: string): Promise<void> {
    const exit = succeeded ? undefined : await this.probe.containerExit(container, host);
    const described = succeeded ? { reason: `container ${container} exited with code 0`, capacity: false } : describeExit(container, exit?.exitStatus, exit?.diagnostics);
    const status: BackendWorkerStatus = {
      name,
      phase: 'exited',
      failed: !succeeded,
      exitCode: exit?.exitStatus ?? (succeeded ? 0 : null),
      reason: `${described.reason}; YARN relaunches it under the same name`,
      ...(described.capacity ? { capacity: true } : {}),
    };
    this.logger[succeeded ? 'info' : 'error']({ event: 'worker.exited', worker: name, container, exitCode: status.exitCode, reason: status.reason }, 'worker container ended');
    this.publish([status]);
  }

  private async reportPendingTimeout(w: Worker, view: View): Promise<void> {
    const why = await this.probe.pendingReason(view.service, this.options.queue, containerMemoryMb(this.options, this.spec?.memoryLimit ?? 0), this.options.cpus);
    if (!this.workers.has(w.name) || w.phase !== 'pending' || w.containerId) return;
    this.workers.delete(w.name);
    const status: BackendWorkerStatus = {
      name: w.name,
      phase: 'exited',
      failed: true,
      capacity: true,
      exitCode: null,
      reason: `pending past its ${formatDuration(this.options.pendingTimeout)} deadline: ${why}`,
    };
    this.logger.warn({ event: 'worker.pending-timeout', worker: w.name, reason: status.reason }, 'worker never got a container; giving it up');
    this.publish([status]);
    // No longer desired: the next reconcile removes the pending instance from YARN.
  }

  private failWorker(name: string, reason: string, capacity: boolean): void {
    const w = this.workers.get(name);
    if (!w) return;
    this.workers.delete(name);
    this.logger.error({ event: 'worker.start-failed', worker: name, reason }, 'cannot start worker');
    this.publish([{ name, phase: 'exited', failed: true, exitCode: null, reason, ...(capacity ? { capacity: true } : {}) }]);
  }

  private exitWorker(w: Worker, how: { failed: boolean; reason: string }): void {
    this.workers.delete(w.name);
    if (how.failed) this.logger.error({ event: 'worker.exited', worker: w.name, reason: how.reason }, 'worker exited unexpectedly');
    else this.logger.info({ event: 'worker.exited', worker: w.name, reason: how.reason }, 'worker stopped');
    this.exited.push({ name: w.name, phase: 'exited', failed: how.failed, exitCode: null, reason: how.reason });
  }

  // ---- status --------------------------------------------------------------------------------

  private exited: BackendWorkerStatus[] = [];

  private current(): BackendWorkerStatus[] {
    const out: BackendWorkerStatus[] = [];
    for (const w of this.workers.values()) if (w.phase !== 'exited') out.push({ name: w.name, phase: w.phase });
    return out;
  }

  /** Emits every live worker plus the exits not yet reported (each reported once). */
  private publish(extra: BackendWorkerStatus[] = []): void {
    const gone = [...this.exited.splice(0), ...extra];
    const names = new Set(gone.map((s) => s.name));
    this.subject.next([...this.current().filter((s) => !names.has(s.name)), ...gone]);
  }

  // ---- close ---------------------------------------------------------------------------------

  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pollSub?.unsubscribe();
    try {
      await this.ops;
      if (this.component && !options.keep) {
        const appId = this.view?.service.id;
        await this.destroy();
        // DELETE returns once the service is stopped; the NodeManager kills its containers
        // right after: wait for the RM to list none, so "closed" means the workers are gone.
        if (appId) await this.probe.waitNoContainers(appId, this.rx, Math.max(10, this.options.requestTimeout));
        for (const w of this.workers.values()) this.exitWorker(w, { failed: false, reason: 'stopped (service destroyed on close)' });
        this.relaunching.clear();
        this.publish();
      } else if (this.component) {
        this.logger.info({ event: 'yarn.kept', service: this.svc, workers: this.current().map((s) => s.name) }, `leaving YARN service ${this.svc} running for the next ebbtide`);
      }
    } finally {
      this.lock?.release();
      this.subject.complete();
    }
  }
}
