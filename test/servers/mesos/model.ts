import type { FrameworkInfo, Resource, TaskInfo, TaskState, TaskStatus } from './types.js';
import type { TaskProcess } from './TaskProcess.js';
import type { ServerResponse } from 'node:http';

/** Scalar resources the test master tracks per agent, offer and task. */
export interface Scalars {
  cpus: number;
  mem: number;
  disk: number;
}

export const ZERO: Scalars = { cpus: 0, mem: 0, disk: 0 };

export function add(a: Scalars, b: Scalars): Scalars {
  return { cpus: a.cpus + b.cpus, mem: a.mem + b.mem, disk: a.disk + b.disk };
}

export function sub(a: Scalars, b: Scalars): Scalars {
  // Rounded so that 0.1 + 0.2 style sums do not leave 1e-17 cpus "free" forever.
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { cpus: r(a.cpus - b.cpus), mem: r(a.mem - b.mem), disk: r(a.disk - b.disk) };
}

export function fits(want: Scalars, have: Scalars): boolean {
  return want.cpus <= have.cpus + 1e-9 && want.mem <= have.mem + 1e-9 && want.disk <= have.disk + 1e-9;
}

/** The cpus/mem/disk of a resource list (other resources are ignored by the test master). */
export function scalarsOf(resources: readonly Resource[] | undefined): Scalars {
  const s = { ...ZERO };
  for (const r of resources ?? []) {
    if (r.type !== 'SCALAR' || !r.scalar) continue;
    if (r.name === 'cpus' || r.name === 'mem' || r.name === 'disk') s[r.name] += r.scalar.value;
  }
  return s;
}

/** The resource list the real master puts in an offer, with the role the framework gets it for. */
export function resourcesOf(s: Scalars, role: string | undefined): Resource[] {
  const out: Resource[] = [];
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    if (s[name] <= 0) continue;
    const r: Resource = { name, type: 'SCALAR', scalar: { value: s[name] }, role: '*' };
    if (role !== undefined) r.allocation_info = { role };
    out.push(r);
  }
  return out;
}

export interface AgentSpec {
  /** Default: `<cluster>-S<n>`. */
  id?: string;
  hostname?: string;
  cpus: number;
  /** MB. */
  mem: number;
  /** MB; default 10240. */
  disk?: number;
}

export interface Agent {
  id: string;
  hostname: string;
  port: number;
  total: Scalars;
  used: Scalars;
  /** false once removed (lost); its tasks are unreachable or lost. */
  active: boolean;
  registeredTime: number;
}

export interface Stream {
  id: string;
  res: ServerResponse;
  heartbeat?: NodeJS.Timeout;
  /** Which replica (master process) serves it. */
  replica: number;
  /** Set by `stallStreams()`: nothing more is written to it. */
  stalled?: boolean;
}

/** Offers are refused by a framework for a while after DECLINE or a partly used ACCEPT. */
export interface RefusalFilter {
  until: number;
  /** Resources left unused; the agent is offered again sooner only if it has more than this. */
  unused: Scalars;
}

export interface Framework {
  id: string;
  info: FrameworkInfo;
  stream?: Stream;
  registeredTime: number;
  unregisteredTime?: number;
  reregisteredTime?: number;
  suppressed: boolean;
  filters: Map<string, RefusalFilter>;
  failoverTimer?: NodeJS.Timeout;
  tasks: Map<string, Task>;
  /** Tasks on lost agents of a PARTITION_AWARE framework. */
  unreachable: Map<string, Task>;
  completed: Task[];
}

export interface Task {
  id: string;
  name: string;
  frameworkId: string;
  agentId: string;
  info: TaskInfo;
  resources: Scalars;
  role: string;
  state: TaskState;
  statuses: Array<{ state: TaskState; timestamp: number }>;
  latest?: TaskStatus;
  /** Status updates with a uuid not yet acknowledged, oldest first; only the head is sent. */
  pending: TaskStatus[];
  retry?: NodeJS.Timeout;
  proc?: TaskProcess;
  killRequested: boolean;
  sandbox: string;
}

export interface Offer {
  id: string;
  frameworkId: string;
  agentId: string;
  resources: Scalars;
  role: string;
}

export function hasCapability(info: FrameworkInfo, type: string): boolean {
  return (info.capabilities ?? []).some((c) => c.type === type);
}

/** The role offers are made for: `roles[0]` for MULTI_ROLE frameworks, else `role` ("*"). */
export function frameworkRoles(info: FrameworkInfo): string[] {
  if (hasCapability(info, 'MULTI_ROLE')) return info.roles && info.roles.length ? info.roles : ['*'];
  return [info.role ?? '*'];
}
