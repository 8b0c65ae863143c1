/**
 * The JSON shapes of the Mesos v1 scheduler API the test master reads and writes, as the real
 * master encodes them (protobuf field names in snake_case, enums as their names, `bytes` such as
 * `uuid` in base64). Only the fields the test master looks at are typed; the rest pass through.
 */

export interface Value {
  value: string;
}

export interface Scalar {
  value: number;
}

export interface Resource {
  name: string;
  type: 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';
  scalar?: Scalar;
  /** Deprecated pre-reservation-refinement role; the real master still fills it in ("*"). */
  role?: string;
  allocation_info?: { role: string };
  reservations?: unknown[];
}

export interface EnvironmentVariable {
  name: string;
  type?: 'VALUE' | 'SECRET';
  value?: string;
}

export interface CommandURI {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface CommandInfo {
  shell?: boolean;
  value?: string;
  arguments?: string[];
  environment?: { variables?: EnvironmentVariable[] };
  uris?: CommandURI[];
  user?: string;
}

export interface ExecutorInfo {
  executor_id: Value;
  type?: 'DEFAULT' | 'CUSTOM' | 'UNKNOWN';
  command?: CommandInfo;
  name?: string;
  resources?: Resource[];
}

export interface DurationInfo {
  nanoseconds: number;
}

export interface KillPolicy {
  grace_period?: DurationInfo;
}

export interface TaskInfo {
  name: string;
  task_id: Value;
  agent_id: Value;
  resources?: Resource[];
  command?: CommandInfo;
  executor?: ExecutorInfo;
  kill_policy?: KillPolicy;
  labels?: { labels?: Array<{ key: string; value?: string }> };
}

export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

/** States after which the task never runs again (TASK_LOST is terminal for the master too). */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export interface TaskStatus {
  task_id: Value;
  state: TaskState;
  source?: 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
  reason?: string;
  message?: string;
  agent_id?: Value;
  executor_id?: Value;
  timestamp: number;
  /** base64 of 16 random bytes; absent on master-generated updates, which need no ACKNOWLEDGE. */
  uuid?: string;
}

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: Value;
  failover_timeout?: number;
  checkpoint?: boolean;
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: Array<{ type: string }>;
  labels?: unknown;
}

/** A scheduler call (`scheduler.proto` `Call`). */
export interface Call {
  type: string;
  framework_id?: Value;
  subscribe?: { framework_info?: FrameworkInfo; force?: boolean; suppressed_roles?: string[] };
  accept?: { offer_ids?: Value[]; operations?: Operation[]; filters?: Filters };
  decline?: { offer_ids?: Value[]; filters?: Filters };
  kill?: { task_id?: Value; agent_id?: Value; kill_policy?: KillPolicy };
  shutdown?: { executor_id?: Value; agent_id?: Value };
  acknowledge?: { agent_id?: Value; task_id?: Value; uuid?: string };
  reconcile?: { tasks?: Array<{ task_id?: Value; agent_id?: Value }> };
  revive?: { roles?: string[]; role?: string };
  suppress?: { roles?: string[]; role?: string };
  update_framework?: { framework_info?: FrameworkInfo };
}

export interface Filters {
  refuse_seconds?: number;
}

export interface Operation {
  type: string;
  launch?: { task_infos?: TaskInfo[] };
}

/** Every call type of `scheduler.proto` (1.11); anything else is a 400. */
export const CALL_TYPES: ReadonlySet<string> = new Set([
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'REVIVE',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'ACKNOWLEDGE_OPERATION_STATUS',
  'RECONCILE',
  'RECONCILE_OPERATIONS',
  'MESSAGE',
  'REQUEST',
  'SUPPRESS',
  'UPDATE_FRAMEWORK',
]);
