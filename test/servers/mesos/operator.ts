import type { Agent, Framework, Scalars, Task } from './model.js';

/** What the operator endpoints read from the master. */
export interface MasterView {
  id: string;
  version: string;
  hostname: string;
  port: number;
  leaderPort: number;
  startTime: number;
  electedTime: number;
  agents: Agent[];
  frameworks: Framework[];
  completedFrameworks: Framework[];
  offered(agentId: string): Scalars;
  /** Outstanding offers to a framework. */
  offersTo(frameworkId: string): Array<{ id: string; agentId: string; resources: Scalars }>;
  flags: Record<string, string>;
}

// The real master reports resources as a map that always has these keys.
function resources(s: Scalars): Record<string, number> {
  return { cpus: s.cpus, disk: s.disk, gpus: 0, mem: s.mem };
}

function resourcesFull(s: Scalars): unknown[] {
  return (['cpus', 'mem', 'disk'] as const).filter((n) => s[n] > 0).map((name) => ({ name, type: 'SCALAR', scalar: { value: s[name] }, role: '*' }));
}

/** A task as `/master/state` and `/master/tasks` show it. */
export function taskJson(t: Task): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    framework_id: t.frameworkId,
    executor_id: t.info.executor?.executor_id.value ?? '',
    slave_id: t.agentId,
    state: t.state,
    resources: resources(t.resources),
    role: t.role,
    statuses: t.statuses.map((s) => ({ state: s.state, timestamp: s.timestamp })),
  };
}

const STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_KILLED', 'TASK_FAILED', 'TASK_LOST', 'TASK_ERROR', 'TASK_UNREACHABLE'];

function frameworkJson(f: Framework, view: MasterView): Record<string, unknown> {
  const live = [...f.tasks.values()];
  const used = live.reduce((a, t) => ({ cpus: a.cpus + t.resources.cpus, mem: a.mem + t.resources.mem, disk: a.disk + t.resources.disk }), { cpus: 0, mem: 0, disk: 0 });
  const counts: Record<string, number> = {};
  for (const s of STATES) counts[s] = [...live, ...f.completed].filter((t) => t.state === s).length;
  return {
    id: f.id,
    name: f.info.name,
    pid: '',
    used_resources: resources(used),
    offered_resources: resources(view.offersTo(f.id).reduce((a, o) => ({ cpus: a.cpus + o.resources.cpus, mem: a.mem + o.resources.mem, disk: a.disk + o.resources.disk }), { cpus: 0, mem: 0, disk: 0 })),
    capabilities: (f.info.capabilities ?? []).map((c) => c.type),
    hostname: f.info.hostname ?? view.hostname,
    webui_url: f.info.webui_url ?? '',
    active: f.stream !== undefined,
    connected: f.stream !== undefined,
    recovered: false,
    ...counts,
    user: f.info.user,
    failover_timeout: f.info.failover_timeout ?? 0,
    checkpoint: f.info.checkpoint ?? false,
    role: f.info.role ?? '*',
    roles: f.info.roles ?? [],
    principal: f.info.principal,
    registered_time: f.registeredTime / 1000,
    unregistered_time: (f.unregisteredTime ?? 0) / 1000,
    ...(f.reregisteredTime ? { reregistered_time: f.reregisteredTime / 1000 } : {}),
    resources: resources(used),
    tasks: live.map(taskJson),
    unreachable_tasks: [...f.unreachable.values()].map(taskJson),
    completed_tasks: f.completed.map(taskJson),
    offers: view.offersTo(f.id).map((o) => ({ id: o.id, framework_id: f.id, slave_id: o.agentId, resources: resources(o.resources) })),
    executors: [],
    completed_executors: [],
  };
}

/** `GET /master/state` in the shape of Mesos 1.11's master. */
export function stateJson(view: MasterView): Record<string, unknown> {
  const pid = (port: number) => `master@127.0.0.1:${port}`;
  return {
    version: view.version,
    git_tag: view.version,
    build_date: '2020-11-17 00:00:00',
    build_time: 1605571200,
    build_user: 'ebbtide-test-master',
    start_time: view.startTime / 1000,
    elected_time: view.electedTime / 1000,
    id: view.id,
    pid: pid(view.port),
    hostname: view.hostname,
    activated_slaves: view.agents.filter((a) => a.active).length,
    deactivated_slaves: 0,
    unreachable_slaves: view.agents.filter((a) => !a.active).length,
    leader: pid(view.leaderPort),
    leader_info: { id: view.id, pid: pid(view.leaderPort), port: view.leaderPort, hostname: view.hostname, address: { hostname: view.hostname, ip: '127.0.0.1', port: view.leaderPort } },
    flags: view.flags,
    slaves: view.agents
      .filter((a) => a.active)
      .map((a) => {
        const offered = view.offered(a.id);
        const free = { cpus: a.total.cpus - a.used.cpus, mem: a.total.mem - a.used.mem, disk: a.total.disk - a.used.disk };
        return {
          id: a.id,
          pid: `slave(1)@127.0.0.1:${a.port}`,
          hostname: a.hostname,
          port: a.port,
          registered_time: a.registeredTime / 1000,
          resources: resources(a.total),
          used_resources: resources(a.used),
          offered_resources: resources(offered),
          reserved_resources: {},
          unreserved_resources: resources(a.total),
          attributes: {},
          active: true,
          version: view.version,
          capabilities: ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT', 'RESOURCE_PROVIDER', 'RESIZE_VOLUME', 'AGENT_OPERATION_FEEDBACK', 'AGENT_DRAINING', 'TASK_RESOURCE_LIMITS'],
          reserved_resources_full: {},
          unreserved_resources_full: resourcesFull(a.total),
          used_resources_full: resourcesFull(a.used),
          offered_resources_full: resourcesFull(offered),
          free_resources: resources(free),
        };
      }),
    frameworks: view.frameworks.map((f) => frameworkJson(f, view)),
    completed_frameworks: view.completedFrameworks.map((f) => frameworkJson(f, view)),
    orphan_tasks: [],
    unregistered_frameworks: [],
  };
}

/**
 * `GET /master/tasks`: `{tasks: [...]}`, live then unreachable then completed tasks of every
 * framework, with the real endpoint's `limit` (default 100), `offset`, `order` (asc|des),
 * `framework_id` and `task_id` query parameters.
 */
export function tasksJson(view: MasterView, query: URLSearchParams): Record<string, unknown> {
  let tasks: Task[] = [];
  for (const f of [...view.frameworks, ...view.completedFrameworks]) tasks.push(...f.tasks.values(), ...f.unreachable.values(), ...f.completed);
  const fid = query.get('framework_id');
  const tid = query.get('task_id');
  if (fid) tasks = tasks.filter((t) => t.frameworkId === fid);
  if (tid) tasks = tasks.filter((t) => t.id === tid);
  if (query.get('order') === 'asc') tasks.reverse();
  const offset = Number(query.get('offset') ?? 0) || 0;
  const limit = Number(query.get('limit') ?? 100) || 100;
  return { tasks: tasks.slice(offset, offset + limit).map(taskJson) };
}
