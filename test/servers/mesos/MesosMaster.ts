import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import {
  type Agent,
  type AgentSpec,
  type Framework,
  type Offer,
  type Scalars,
  type Stream,
  type Task,
  ZERO,
  add,
  fits,
  frameworkRoles,
  hasCapability,
  resourcesOf,
  scalarsOf,
  sub,
} from './model.js';
import { type MasterView, stateJson, tasksJson } from './operator.js';
import { recordio } from './recordio.js';
import { type TaskExit, TaskProcess } from './TaskProcess.js';
import { validateCall, validateTask } from './validation.js';
import { CALL_TYPES, type Call, TERMINAL_STATES, type TaskInfo, type TaskState, type TaskStatus } from './types.js';

export interface MesosMasterOptions {
  /** Sandboxes of launched tasks go under `DIR/agents/...`. */
  dir: string;
  /** Default: one agent with 4 cpus, 8192 MB. */
  agents?: AgentSpec[];
  /** Master processes on separate ports; one leads, the others answer 307 to it. Default 1. */
  replicas?: number;
  /** Default 15 (the real master's). */
  heartbeatIntervalSeconds?: number;
  /** Offer cycle; default 1000 ms (the real master's `--allocation_interval`). */
  allocationIntervalMs?: number;
  /** First re-send of an unacknowledged update; doubles up to 10 min like the agent's. Default 10 s. */
  updateRetryMs?: number;
  /** Grace between SIGTERM and SIGKILL when a KILL has no kill policy. Default 3 s. */
  defaultKillGraceMs?: number;
}

/** Faults a test can switch on; each counter is used up one occurrence at a time. */
export interface MesosFaults {
  /** The next N sends of a uuid'd update are lost on the way (the re-send must deliver them). */
  dropUpdates: number;
  /** The next N offers are rescinded right after they are sent. */
  rescindOffers: number;
  /** While true nothing is written to subscription streams: no events, no heartbeats. */
  silent: boolean;
  /** The next calls of `type` (or any call, '*') answer `status` instead of being processed. */
  failCalls: Array<{ type: string; status: number; count: number }>;
}

export interface CallRecord {
  type: string;
  frameworkId?: string;
  status: number;
  replica: number;
  at: number;
  body: Call | undefined;
}

export interface SentEvent {
  frameworkId: string;
  type: string;
  event: Record<string, unknown>;
}

const VERSION = '1.11.0';
const TEN_MINUTES = 600_000;

function b64uuid(): string {
  return randomBytes(16).toString('base64');
}

/**
 * A Mesos master for tests, speaking the v1 scheduler HTTP API (`POST /api/v1/scheduler`, JSON)
 * the way Mesos 1.11 does: a RecordIO event stream per subscribed framework with a
 * `Mesos-Stream-Id`, heartbeats, offers from its agents each allocation interval (refusal
 * filters, SUPPRESS/REVIVE), LAUNCH with the command executor as a real local process per task,
 * status updates with a uuid re-sent until acknowledged, KILL with a grace period, implicit and
 * explicit RECONCILE, TEARDOWN, `failover_timeout`, and the 307/400/403/503 answers. The operator
 * endpoints `GET /master/state` and `GET /master/tasks` answer in the real master's JSON shape.
 *
 * Limits (documented in docs/backends/mesos.md): JSON only (no protobuf), scalar cpus/mem/disk
 * only, one framework gets an agent's free resources at a time (no DRF), no reservations,
 * volumes or containerizers, and a custom executor's `command` runs as the task's process (there
 * is no executor API).
 *
 * Events for tests: `call` (CallRecord), `sent` (SentEvent), `subscribed` (frameworkId, streamId),
 * `task` (Task, state).
 */
export class MesosMaster extends EventEmitter {
  readonly faults: MesosFaults = { dropUpdates: 0, rescindOffers: 0, silent: false, failCalls: [] };
  readonly calls: CallRecord[] = [];
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly ports: number[] = [];
  private leader = 0;
  private unavailable = false;
  private masterId = randomUUID();
  private readonly clusterId = randomUUID().slice(0, 8);
  private readonly agents = new Map<string, Agent>();
  private readonly frameworks = new Map<string, Framework>();
  private readonly completedFrameworks: Framework[] = [];
  private readonly offers = new Map<string, Offer>();
  private allocationTimer?: NodeJS.Timeout;
  private counter = 0;
  private readonly startTime = Date.now();
  private electedTime = Date.now();
  private closed = false;
  private readonly opts: Required<Omit<MesosMasterOptions, 'agents'>>;

  constructor(options: MesosMasterOptions) {
    super();
    this.opts = {
      dir: options.dir,
      replicas: options.replicas ?? 1,
      heartbeatIntervalSeconds: options.heartbeatIntervalSeconds ?? 15,
      allocationIntervalMs: options.allocationIntervalMs ?? 1000,
      updateRetryMs: options.updateRetryMs ?? 10_000,
      defaultKillGraceMs: options.defaultKillGraceMs ?? 3000,
    };
    for (const spec of options.agents ?? [{ cpus: 4, mem: 8192 }]) this.addAgent(spec);
  }

  /** Listens on 127.0.0.1 (one random port per replica) and starts the offer cycle. */
  async start(): Promise<void> {
    for (let i = 0; i < this.opts.replicas; i++) {
      const server = createServer((req, res) => void this.handle(i, req, res));
      server.on('connection', (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      this.servers.push(server);
      this.ports.push((server.address() as AddressInfo).port);
    }
    this.allocationTimer = setInterval(() => this.allocate(), this.opts.allocationIntervalMs);
  }

  /** The URL of replica `i` (default: the first, which leads until `failover()`). */
  url(i = 0): string {
    return `http://127.0.0.1:${this.ports[i]}`;
  }

  get replicaCount(): number {
    return this.ports.length;
  }

  get leaderUrl(): string {
    return this.url(this.leader);
  }

  get id(): string {
    return this.masterId;
  }

  // ---------------------------------------------------------------- fault hooks

  /** Adds an agent; its resources are offered from the next cycle on. */
  addAgent(spec: AgentSpec): string {
    const n = this.agents.size;
    const id = spec.id ?? `${this.clusterId}-S${n}`;
    this.agents.set(id, {
      id,
      hostname: spec.hostname ?? `agent-${n}.localdomain`,
      port: 5051 + n,
      total: { cpus: spec.cpus, mem: spec.mem, disk: spec.disk ?? 10240 },
      used: { ...ZERO },
      active: true,
      registeredTime: Date.now(),
    });
    return id;
  }

  agentIds(): string[] {
    return [...this.agents.values()].filter((a) => a.active).map((a) => a.id);
  }

  /**
   * The agent is lost: its task processes die (SIGKILL), its offers are rescinded, frameworks get
   * FAILURE and, per task, TASK_UNREACHABLE (PARTITION_AWARE) or TASK_LOST, from the master
   * (no uuid).
   */
  removeAgent(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (!agent || !agent.active) return;
    agent.active = false;
    for (const o of [...this.offers.values()].filter((o) => o.agentId === agentId)) this.rescind(o);
    for (const fw of this.frameworks.values()) {
      const lost = [...fw.tasks.values()].filter((t) => t.agentId === agentId);
      if (lost.length === 0) continue;
      this.send(fw, { type: 'FAILURE', failure: { agent_id: { value: agentId } } });
      const pa = hasCapability(fw.info, 'PARTITION_AWARE');
      for (const t of lost) {
        t.proc?.signal('SIGKILL');
        if (t.retry) clearTimeout(t.retry);
        t.pending = [];
        fw.tasks.delete(t.id);
        const state: TaskState = pa ? 'TASK_UNREACHABLE' : 'TASK_LOST';
        this.setState(t, state);
        if (pa) fw.unreachable.set(t.id, t);
        else fw.completed.push(t);
        this.masterUpdate(fw, t, state, 'REASON_AGENT_REMOVED', `Agent ${agentId} removed: health check timed out`);
      }
      agent.used = { ...ZERO };
    }
  }

  /**
   * Leader election: the next replica leads (with one replica, the same one comes back), every
   * stream drops, the master gets a new id; frameworks re-subscribe (the old leader answers 307)
   * and find their tasks, which the agents kept running.
   */
  failover(): void {
    this.leader = (this.leader + 1) % this.opts.replicas;
    this.masterId = randomUUID();
    this.electedTime = Date.now();
    for (const o of [...this.offers.values()]) this.offers.delete(o.id);
    this.dropStreams();
  }

  /**
   * Every stream open now goes quiet — no events, no heartbeats — while its connection stays up
   * (a half-open TCP connection); streams subscribed later are not affected.
   */
  stallStreams(): void {
    for (const fw of this.frameworks.values()) if (fw.stream) fw.stream.stalled = true;
  }

  /** Closes every subscription connection (a network cut); state is kept. */
  dropStreams(): void {
    for (const fw of this.frameworks.values()) if (fw.stream) fw.stream.res.destroy();
  }

  /** While true every request answers 503 (a master still recovering). */
  setUnavailable(unavailable: boolean): void {
    this.unavailable = unavailable;
  }

  /** Rescinds every outstanding offer. */
  rescindAll(): void {
    for (const o of [...this.offers.values()]) this.rescind(o);
  }

  /** Sends an ERROR event; the real master does so e.g. when a framework is not authorized. */
  sendError(frameworkId: string, message: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (fw) this.send(fw, { type: 'ERROR', error: { message } });
  }

  /** Signals a task's process from outside (OOM killer, operator). */
  signalTask(taskId: string, signal: NodeJS.Signals): void {
    for (const fw of this.frameworks.values()) fw.tasks.get(taskId)?.proc?.signal(signal);
  }

  // ---------------------------------------------------------------- views for tests

  framework(id: string): Framework | undefined {
    return this.frameworks.get(id);
  }

  get frameworkList(): Framework[] {
    return [...this.frameworks.values()];
  }

  /** Live (non-terminal or unacknowledged) tasks of every framework. */
  liveTasks(): Task[] {
    return [...this.frameworks.values()].flatMap((f) => [...f.tasks.values()]);
  }

  /** Pids of task processes still alive. */
  taskPids(): number[] {
    return this.liveTasks()
      .map((t) => t.proc?.pid)
      .filter((p): p is number => p !== undefined);
  }

  outstandingOffers(): Offer[] {
    return [...this.offers.values()];
  }

  private view(replica: number): MasterView {
    return {
      id: this.masterId,
      version: VERSION,
      hostname: 'localhost',
      port: this.ports[replica]!,
      leaderPort: this.ports[this.leader]!,
      startTime: this.startTime,
      electedTime: this.electedTime,
      agents: [...this.agents.values()],
      frameworks: [...this.frameworks.values()],
      completedFrameworks: this.completedFrameworks,
      offered: (agentId) => [...this.offers.values()].filter((o) => o.agentId === agentId).reduce((a, o) => add(a, o.resources), { ...ZERO }),
      offersTo: (frameworkId) => [...this.offers.values()].filter((o) => o.frameworkId === frameworkId),
      flags: {
        allocation_interval: `${this.opts.allocationIntervalMs}ms`,
        authenticate_frameworks: 'false',
        work_dir: this.opts.dir,
        port: String(this.ports[replica]),
        ip: '127.0.0.1',
      },
    };
  }

  // ---------------------------------------------------------------- HTTP

  private reply(res: ServerResponse, status: number, text = '', headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(replica: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\.json$/, '');
    if (path === '/api/v1/scheduler') return this.scheduler(replica, req, res);
    if (req.method !== 'GET') return this.reply(res, 405, '', { Allow: 'GET' });
    if (path === '/master/state' || path === '/state') return this.json(res, stateJson(this.view(replica)));
    if (path === '/master/tasks' || path === '/tasks') return this.json(res, tasksJson(this.view(replica), url.searchParams));
    if (path === '/master/redirect' || path === '/redirect') return this.reply(res, 307, '', { Location: `//127.0.0.1:${this.ports[this.leader]}` });
    if (path === '/health') return this.reply(res, 200);
    this.reply(res, 404);
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private record(type: string, status: number, replica: number, body: Call | undefined): void {
    const rec: CallRecord = { type, status, replica, at: Date.now(), body };
    if (body?.framework_id?.value) rec.frameworkId = body.framework_id.value;
    this.calls.push(rec);
    this.emit('call', rec);
  }

  private async scheduler(replica: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await this.readBody(req);
    const fail = (status: number, message: string, call?: Call, headers: Record<string, string> = {}) => {
      this.record(call?.type ?? 'INVALID', status, replica, call);
      this.reply(res, status, message, headers);
    };
    if (req.method !== 'POST') return fail(405, 'Expecting POST', undefined, { Allow: 'POST' });
    if (replica !== this.leader) {
      // The real master sends the leader without a scheme.
      return fail(307, '', undefined, { Location: `//127.0.0.1:${this.ports[this.leader]}/api/v1/scheduler` });
    }
    if (this.unavailable) return fail(503, 'Master has not finished recovery');
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (contentType !== 'application/json') {
      return fail(415, `Expecting 'Content-Type' of application/json (this test master speaks JSON only), got '${contentType}'`);
    }
    let call: Call;
    try {
      call = JSON.parse(text) as Call;
    } catch (e) {
      return fail(400, `Failed to parse body into JSON: ${(e as Error).message}`);
    }
    if (typeof call !== 'object' || call === null || typeof call.type !== 'string' || !CALL_TYPES.has(call.type)) {
      return fail(400, `Failed to validate scheduler::Call: Expecting 'type' to be one of ${[...CALL_TYPES].join(', ')}`, call);
    }
    const injected = this.faults.failCalls.find((f) => f.count > 0 && (f.type === call.type || f.type === '*'));
    if (injected) {
      injected.count--;
      return fail(injected.status, `injected ${injected.status}`, call);
    }
    if (call.type === 'SUBSCRIBE') return this.subscribe(replica, req, res, call);

    const fid = call.framework_id?.value;
    if (!fid) return fail(400, "Failed to validate scheduler::Call: Expecting 'framework_id' to be present", call);
    const fw = this.frameworks.get(fid);
    if (!fw || !fw.stream) return fail(403, 'Framework cannot be found', call);
    const streamId = req.headers['mesos-stream-id'];
    if (!streamId) return fail(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header", call);
    if (streamId !== fw.stream.id) {
      return fail(400, `The stream ID '${String(streamId)}' included in this request didn't match the stream ID currently associated with framework ID ${fid}`, call);
    }
    const invalid = validateCall(call);
    if (invalid) return fail(400, `Failed to validate scheduler::Call: ${invalid}`, call);
    this.record(call.type, 202, replica, call);
    res.writeHead(202);
    res.end();
    this.process(fw, call);
  }

  private subscribe(replica: number, req: IncomingMessage, res: ServerResponse, call: Call): void {
    const info = call.subscribe?.framework_info;
    const bad = (msg: string) => {
      this.record('SUBSCRIBE', 400, replica, call);
      this.reply(res, 400, msg);
    };
    if (!info || typeof info.user !== 'string' || typeof info.name !== 'string') {
      return bad("Failed to validate scheduler::Call: Expecting 'subscribe.framework_info' with 'user' and 'name'");
    }
    if (req.headers['mesos-stream-id']) return bad("Subscribe calls should not include the 'Mesos-Stream-Id' header");
    const top = call.framework_id?.value;
    const inInfo = info.id?.value;
    if (top !== inInfo && top !== undefined && inInfo !== undefined) return bad("Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'");
    if (inInfo && !top) return bad("Failed to validate scheduler::Call: 'framework_id' must be set when 'subscribe.framework_info.id' is");

    // Streams are RecordIO either way; newer clients ask for it by name (mesos-go does).
    const accept = String(req.headers.accept ?? 'application/json');
    const recordioAsked = accept.includes('application/recordio');
    if (!recordioAsked && !/application\/json|\*\/\*/.test(accept)) {
      this.record('SUBSCRIBE', 406, replica, call);
      return this.reply(res, 406, `Expecting 'Accept' to allow application/json or application/recordio, got '${accept}'`);
    }
    if (recordioAsked && !/application\/json|\*\/\*/.test(String(req.headers['message-accept'] ?? 'application/json'))) {
      this.record('SUBSCRIBE', 406, replica, call);
      return this.reply(res, 406, "Expecting 'Message-Accept' to allow application/json");
    }
    const headers: Record<string, string> = recordioAsked
      ? { 'Content-Type': 'application/recordio', 'Message-Content-Type': 'application/json' }
      : { 'Content-Type': 'application/json' };
    const streamId = randomUUID();
    headers['Mesos-Stream-Id'] = streamId;
    this.record('SUBSCRIBE', 200, replica, call);

    const id = inInfo ?? top;
    if (id && this.completedFrameworks.some((f) => f.id === id)) {
      res.writeHead(200, headers);
      res.end(recordio({ type: 'ERROR', error: { message: 'Framework has been removed' } }));
      return;
    }
    let fw = id ? this.frameworks.get(id) : undefined;
    const now = Date.now();
    if (fw) {
      if (fw.stream) {
        const old = fw.stream;
        fw.stream = undefined;
        this.writeTo(old, { type: 'ERROR', error: { message: 'Framework failed over' } });
        old.res.end();
        if (old.heartbeat) clearInterval(old.heartbeat);
      }
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.failoverTimer = undefined;
      fw.info = { ...info, id: { value: fw.id } };
      fw.reregisteredTime = now;
    } else {
      const newId = id ?? `${this.clusterId}-${String(this.counter++).padStart(4, '0')}`;
      fw = {
        id: newId,
        info: { ...info, id: { value: newId } },
        registeredTime: now,
        suppressed: false,
        filters: new Map(),
        tasks: new Map(),
        unreachable: new Map(),
        completed: [],
      };
      this.frameworks.set(newId, fw);
    }
    fw.suppressed = (call.subscribe?.suppressed_roles ?? []).length > 0;
    res.writeHead(200, headers);
    res.flushHeaders();
    const stream: Stream = { id: streamId, res, replica };
    fw.stream = stream;
    const framework = fw;
    res.on('close', () => this.disconnected(framework, stream));
    this.emit('subscribed', fw.id, streamId);
    this.send(fw, {
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: { value: fw.id },
        heartbeat_interval_seconds: this.opts.heartbeatIntervalSeconds,
        master_info: {
          id: this.masterId,
          ip: 0x0100007f,
          port: this.ports[replica],
          pid: `master@127.0.0.1:${this.ports[replica]}`,
          hostname: 'localhost',
          version: VERSION,
          address: { hostname: 'localhost', ip: '127.0.0.1', port: this.ports[replica] },
          domain: undefined,
          // 1.11 also reports QUOTA_V2, which mesos-go v0.0.11 cannot decode; the older set keeps that client working.
          capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }],
        },
      },
    });
    stream.heartbeat = setInterval(() => this.send(framework, { type: 'HEARTBEAT' }), this.opts.heartbeatIntervalSeconds * 1000);
    // Updates that were waiting for an acknowledgement are delivered on the new stream.
    for (const t of fw.tasks.values()) if (t.pending.length) this.sendHead(fw, t, this.opts.updateRetryMs);
  }

  private disconnected(fw: Framework, stream: Stream): void {
    if (stream.heartbeat) clearInterval(stream.heartbeat);
    if (fw.stream !== stream) return;
    fw.stream = undefined;
    fw.unregisteredTime = Date.now();
    for (const o of [...this.offers.values()].filter((o) => o.frameworkId === fw.id)) this.offers.delete(o.id);
    if (this.closed) return;
    const timeoutMs = (fw.info.failover_timeout ?? 0) * 1000;
    // The real master keeps a disconnected framework's tasks for failover_timeout (0: none).
    fw.failoverTimer = setTimeout(() => this.removeFramework(fw, 'failover timeout'), Math.min(timeoutMs, 2 ** 31 - 1));
  }

  private removeFramework(fw: Framework, why: string): void {
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    for (const t of fw.tasks.values()) {
      if (t.retry) clearTimeout(t.retry);
      t.pending = [];
      if (!TERMINAL_STATES.has(t.state)) {
        t.killRequested = true;
        t.proc?.kill(this.opts.defaultKillGraceMs);
      }
    }
    for (const o of [...this.offers.values()].filter((o) => o.frameworkId === fw.id)) this.offers.delete(o.id);
    this.frameworks.delete(fw.id);
    this.completedFrameworks.push(fw);
    this.emit('removed', fw.id, why);
    const s = fw.stream;
    fw.stream = undefined;
    s?.res.end();
  }

  // ---------------------------------------------------------------- events out

  private writeTo(stream: Stream, event: Record<string, unknown>): boolean {
    if (this.faults.silent || stream.stalled || stream.res.destroyed || stream.res.writableEnded) return false;
    stream.res.write(recordio(event));
    return true;
  }

  private send(fw: Framework, event: Record<string, unknown>): boolean {
    if (!fw.stream) return false;
    const ok = this.writeTo(fw.stream, event);
    if (ok) this.emit('sent', { frameworkId: fw.id, type: String(event.type), event } satisfies SentEvent);
    return ok;
  }

  // ---------------------------------------------------------------- calls

  private process(fw: Framework, call: Call): void {
    switch (call.type) {
      case 'TEARDOWN':
        return this.removeFramework(fw, 'TEARDOWN');
      case 'ACCEPT':
        return this.accept(fw, call.accept!);
      case 'DECLINE':
        for (const oid of call.decline!.offer_ids ?? []) {
          const o = this.offers.get(oid.value);
          if (!o || o.frameworkId !== fw.id) continue;
          this.offers.delete(o.id);
          this.refuse(fw, o.agentId, o.resources, call.decline!.filters?.refuse_seconds);
        }
        return;
      case 'REVIVE':
        fw.suppressed = false;
        fw.filters.clear();
        return;
      case 'SUPPRESS':
        fw.suppressed = true;
        return;
      case 'KILL':
        return this.kill(fw, call.kill!.task_id!.value, call.kill!.agent_id?.value, call.kill!.kill_policy?.grace_period?.nanoseconds);
      case 'SHUTDOWN':
        for (const t of fw.tasks.values()) {
          if ((t.info.executor?.executor_id.value ?? t.id) === call.shutdown!.executor_id!.value) this.kill(fw, t.id, t.agentId, 0);
        }
        return;
      case 'ACKNOWLEDGE':
        return this.acknowledge(fw, call.acknowledge!.task_id!.value, call.acknowledge!.uuid!);
      case 'RECONCILE':
        return this.reconcile(fw, call.reconcile?.tasks ?? []);
      case 'UPDATE_FRAMEWORK':
        if (call.update_framework?.framework_info) fw.info = { ...call.update_framework.framework_info, id: { value: fw.id } };
        return;
      default:
        // MESSAGE, REQUEST, inverse offers, operation feedback: accepted, nothing to do here.
        return;
    }
  }

  private refuse(fw: Framework, agentId: string, unused: Scalars, refuseSeconds: number | undefined): void {
    const seconds = refuseSeconds ?? 5;
    if (seconds <= 0) return;
    fw.filters.set(agentId, { until: Date.now() + seconds * 1000, unused });
  }

  private accept(fw: Framework, accept: NonNullable<Call['accept']>): void {
    const ids = (accept.offer_ids ?? []).map((o) => o.value);
    const offers = ids.map((id) => this.offers.get(id));
    for (const o of offers) if (o) this.offers.delete(o.id);
    const launches = (accept.operations ?? []).filter((op) => op.type === 'LAUNCH').flatMap((op) => op.launch?.task_infos ?? []);
    const badOffer = ids.length === 0 ? 'no offer ids' : ids.find((id, i) => !offers[i] || offers[i]!.frameworkId !== fw.id);
    const agents = new Set(offers.filter(Boolean).map((o) => o!.agentId));
    const invalid = badOffer !== undefined ? `Offer ${badOffer} is no longer valid` : agents.size > 1 ? 'Aggregated offers must belong to one single agent' : undefined;
    const pa = hasCapability(fw.info, 'PARTITION_AWARE');
    if (invalid) {
      for (const info of launches) {
        this.masterStatus(fw, info, pa ? 'TASK_DROPPED' : 'TASK_LOST', 'REASON_INVALID_OFFERS', `Task launched with invalid offers: ${invalid}`);
      }
      return;
    }
    const agentId = offers[0]!.agentId;
    const role = offers[0]!.role;
    let available = offers.reduce((a, o) => add(a, o!.resources), { ...ZERO });
    for (const info of launches) {
      const problem = validateTask(fw, info, agentId, role, available);
      if (problem) {
        this.masterStatus(fw, info, 'TASK_ERROR', 'REASON_TASK_INVALID', problem);
        continue;
      }
      const res = scalarsOf(info.resources);
      available = sub(available, res);
      this.launch(fw, info, agentId, role, res);
    }
    this.refuse(fw, agentId, available, accept.filters?.refuse_seconds);
  }

  private launch(fw: Framework, info: TaskInfo, agentId: string, role: string, res: Scalars): void {
    const agent = this.agents.get(agentId)!;
    agent.used = add(agent.used, res);
    const sandbox = join(this.opts.dir, 'agents', agentId, 'frameworks', fw.id, 'executors', info.task_id.value, 'runs', randomUUID());
    const task: Task = {
      id: info.task_id.value,
      name: info.name,
      frameworkId: fw.id,
      agentId,
      info,
      resources: res,
      role,
      state: 'TASK_STAGING',
      statuses: [],
      pending: [],
      killRequested: false,
      sandbox,
    };
    fw.tasks.set(task.id, task);
    this.setState(task, 'TASK_STAGING');
    const command = info.command ?? info.executor!.command ?? {};
    const env: Record<string, string> = {
      MESOS_TASK_ID: task.id,
      MESOS_FRAMEWORK_ID: fw.id,
      MESOS_AGENT_ID: agentId,
      MESOS_SANDBOX: sandbox,
      MESOS_DIRECTORY: sandbox,
      MESOS_EXECUTOR_ID: info.executor?.executor_id.value ?? task.id,
    };
    task.proc = new TaskProcess(sandbox, command, env, () => {
      if (task.killRequested) return;
      // The command executor reports STARTING then RUNNING; each waits for the previous ack.
      this.executorUpdate(task, 'TASK_STARTING');
      this.executorUpdate(task, 'TASK_RUNNING');
    });
    void task.proc.done.then((exit) => this.exited(task, exit));
  }

  private exited(task: Task, exit: TaskExit): void {
    const agent = this.agents.get(task.agentId);
    if (agent?.active) agent.used = sub(agent.used, task.resources);
    if (TERMINAL_STATES.has(task.state) || task.state === 'TASK_UNREACHABLE') return; // lost with its agent
    const how = exit.kind === 'exited' ? `Command exited with status ${exit.code}` : exit.kind === 'signalled' ? `Command terminated with signal ${exit.signal}` : exit.message;
    if (task.killRequested) this.executorUpdate(task, 'TASK_KILLED', how);
    else if (exit.kind === 'exited' && exit.code === 0) this.executorUpdate(task, 'TASK_FINISHED', how);
    else if (exit.kind === 'fetch-failed' || exit.kind === 'spawn-failed') this.executorUpdate(task, 'TASK_FAILED', `Failed to launch container: ${how}`, 'REASON_CONTAINER_LAUNCH_FAILED');
    else this.executorUpdate(task, 'TASK_FAILED', how, exit.kind === 'signalled' && exit.signal === 'SIGKILL' ? 'REASON_CONTAINER_LIMITATION_MEMORY' : 'REASON_COMMAND_EXECUTOR_FAILED');
  }

  private kill(fw: Framework, taskId: string, agentId: string | undefined, graceNs: number | undefined): void {
    const task = fw.tasks.get(taskId);
    if (!task) {
      // The real master answers a KILL of an unknown task with a reconciliation of that task.
      return this.reconcile(fw, [{ task_id: { value: taskId }, ...(agentId ? { agent_id: { value: agentId } } : {}) }]);
    }
    if (TERMINAL_STATES.has(task.state) || task.killRequested) return;
    task.killRequested = true;
    const policy = graceNs ?? task.info.kill_policy?.grace_period?.nanoseconds;
    const graceMs = policy !== undefined ? policy / 1e6 : this.opts.defaultKillGraceMs;
    if (!task.proc?.pid) {
      // Not started yet: it never will.
      task.proc?.kill(0);
      return;
    }
    if (hasCapability(fw.info, 'TASK_KILLING_STATE')) this.executorUpdate(task, 'TASK_KILLING');
    task.proc.kill(graceMs);
  }

  private acknowledge(fw: Framework, taskId: string, uuid: string): void {
    const task = fw.tasks.get(taskId);
    const head = task?.pending[0];
    if (!task || !head || head.uuid !== uuid) return; // duplicate or stale ack: ignored, like the agent
    task.pending.shift();
    if (task.retry) clearTimeout(task.retry);
    task.retry = undefined;
    if (task.pending.length) this.sendHead(fw, task, this.opts.updateRetryMs);
    else if (TERMINAL_STATES.has(task.state)) {
      fw.tasks.delete(task.id);
      fw.completed.push(task);
    }
  }

  private reconcile(fw: Framework, tasks: Array<{ task_id?: Value; agent_id?: Value }>): void {
    const pa = hasCapability(fw.info, 'PARTITION_AWARE');
    if (tasks.length === 0) {
      for (const t of [...fw.tasks.values(), ...fw.unreachable.values()]) this.masterUpdate(fw, t, t.state, 'REASON_RECONCILIATION', 'Reconciliation: Latest task state');
      return;
    }
    for (const q of tasks) {
      const id = q.task_id?.value;
      if (!id) continue;
      const t = fw.tasks.get(id) ?? fw.unreachable.get(id);
      if (t) {
        this.masterUpdate(fw, t, t.state, 'REASON_RECONCILIATION', 'Reconciliation: Latest task state');
        continue;
      }
      const agent = q.agent_id ? this.agents.get(q.agent_id.value) : undefined;
      const state: TaskState = !pa ? 'TASK_LOST' : agent?.active ? 'TASK_GONE' : agent ? 'TASK_UNREACHABLE' : 'TASK_UNKNOWN';
      this.send(fw, {
        type: 'UPDATE',
        update: {
          status: {
            task_id: { value: id },
            state,
            source: 'SOURCE_MASTER',
            reason: 'REASON_RECONCILIATION',
            message: 'Reconciliation: Task is unknown',
            ...(q.agent_id ? { agent_id: q.agent_id } : {}),
            timestamp: Date.now() / 1000,
          } satisfies TaskStatus,
        },
      });
    }
  }

  // ---------------------------------------------------------------- status updates

  private setState(task: Task, state: TaskState): void {
    task.state = state;
    task.statuses.push({ state, timestamp: Date.now() / 1000 });
    this.emit('task', task, state);
  }

  /** An update from the task's executor: uuid'd, queued, re-sent until acknowledged. */
  private executorUpdate(task: Task, state: TaskState, message?: string, reason?: string): void {
    const fw = this.frameworks.get(task.frameworkId);
    if (!fw) return;
    const status: TaskStatus = {
      task_id: { value: task.id },
      state,
      source: 'SOURCE_EXECUTOR',
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      agent_id: { value: task.agentId },
      executor_id: { value: task.info.executor?.executor_id.value ?? task.id },
      timestamp: Date.now() / 1000,
      uuid: b64uuid(),
    };
    this.setState(task, state);
    task.latest = status;
    task.pending.push(status);
    if (task.pending.length === 1) this.sendHead(fw, task, this.opts.updateRetryMs);
  }

  private sendHead(fw: Framework, task: Task, retryMs: number): void {
    if (task.retry) clearTimeout(task.retry);
    const head = task.pending[0];
    if (!head) return;
    if (fw.stream) {
      if (this.faults.dropUpdates > 0 && !this.faults.silent) this.faults.dropUpdates--;
      else this.send(fw, { type: 'UPDATE', update: { status: head } });
    }
    task.retry = setTimeout(() => this.sendHead(fw, task, Math.min(retryMs * 2, TEN_MINUTES)), retryMs);
  }

  /** A master-generated update about a known task: no uuid, not retried, no ack expected. */
  private masterUpdate(fw: Framework, task: Task, state: TaskState, reason: string, message: string): void {
    this.send(fw, {
      type: 'UPDATE',
      update: {
        status: {
          task_id: { value: task.id },
          state,
          source: 'SOURCE_MASTER',
          reason,
          message,
          agent_id: { value: task.agentId },
          timestamp: Date.now() / 1000,
        } satisfies TaskStatus,
      },
    });
  }

  /** A master-generated update about a task that never got an agent (invalid launch). */
  private masterStatus(fw: Framework, info: TaskInfo, state: TaskState, reason: string, message: string): void {
    this.send(fw, {
      type: 'UPDATE',
      update: {
        status: {
          task_id: { value: info.task_id?.value ?? '' },
          state,
          source: 'SOURCE_MASTER',
          reason,
          message,
          ...(info.agent_id ? { agent_id: info.agent_id } : {}),
          timestamp: Date.now() / 1000,
        } satisfies TaskStatus,
      },
    });
  }

  // ---------------------------------------------------------------- offers

  private rescind(o: Offer): void {
    this.offers.delete(o.id);
    const fw = this.frameworks.get(o.frameworkId);
    if (fw) this.send(fw, { type: 'RESCIND', rescind: { offer_id: { value: o.id } } });
  }

  /** One offer cycle: each active agent's unoffered free resources go to one framework that wants them. */
  private allocate(): void {
    if (this.faults.silent) return;
    const now = Date.now();
    const wanting = [...this.frameworks.values()].filter((f) => f.stream && !f.suppressed);
    if (wanting.length === 0) return;
    const batches = new Map<Framework, Offer[]>();
    let turn = this.counter;
    for (const agent of this.agents.values()) {
      if (!agent.active) continue;
      const offered = [...this.offers.values()].filter((o) => o.agentId === agent.id).reduce((a, o) => add(a, o.resources), { ...ZERO });
      const free = sub(sub(agent.total, agent.used), offered);
      if (free.cpus <= 0 || free.mem <= 0) continue;
      for (let k = 0; k < wanting.length; k++) {
        const fw = wanting[(turn + k) % wanting.length]!;
        const filter = fw.filters.get(agent.id);
        if (filter && filter.until > now && fits(free, filter.unused)) continue;
        fw.filters.delete(agent.id);
        const roles = frameworkRoles(fw.info);
        const role = roles[this.counter % roles.length]!;
        const offer: Offer = { id: `${this.masterId}-O${this.counter++}`, frameworkId: fw.id, agentId: agent.id, resources: free, role };
        this.offers.set(offer.id, offer);
        batches.set(fw, [...(batches.get(fw) ?? []), offer]);
        turn++;
        break;
      }
    }
    for (const [fw, offers] of batches) {
      const multiRole = hasCapability(fw.info, 'MULTI_ROLE');
      this.send(fw, {
        type: 'OFFERS',
        offers: {
          offers: offers.map((o) => {
            const agent = this.agents.get(o.agentId)!;
            return {
              id: { value: o.id },
              framework_id: { value: fw.id },
              agent_id: { value: o.agentId },
              hostname: agent.hostname,
              url: { scheme: 'http', address: { hostname: agent.hostname, ip: '127.0.0.1', port: agent.port }, path: '/slave(1)' },
              resources: resourcesOf(o.resources, multiRole ? o.role : undefined),
              ...(multiRole ? { allocation_info: { role: o.role } } : {}),
            };
          }),
        },
      });
      for (const o of offers) {
        if (this.faults.rescindOffers > 0) {
          this.faults.rescindOffers--;
          this.rescind(o);
        }
      }
    }
  }

  // ---------------------------------------------------------------- shutdown

  /** Stops the offer cycle, kills every task process (SIGKILL) and closes the ports. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.allocationTimer) clearInterval(this.allocationTimer);
    const waits: Promise<unknown>[] = [];
    for (const fw of this.frameworks.values()) {
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      for (const t of fw.tasks.values()) {
        if (t.retry) clearTimeout(t.retry);
        if (t.proc) {
          t.proc.kill(0);
          waits.push(t.proc.done);
        }
      }
      if (fw.stream?.heartbeat) clearInterval(fw.stream.heartbeat);
      fw.stream?.res.destroy();
    }
    await Promise.all(waits);
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

type Value = { value: string };
