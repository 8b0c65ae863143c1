import type { OfferedResource } from './packOffer.js';

/** The parts of the v1 scheduler API's JSON this backend reads (scheduler.proto / mesos.proto). */

export interface Value {
  value: string;
}

export interface Offer {
  id: Value;
  framework_id?: Value;
  agent_id: Value;
  hostname?: string;
  resources?: OfferedResource[];
  allocation_info?: { role: string };
}

export interface TaskStatus {
  task_id: Value;
  state: string;
  source?: string;
  reason?: string;
  message?: string;
  agent_id?: Value;
  uuid?: string;
}

export interface MesosEvent {
  type: string;
  subscribed?: { framework_id: Value; heartbeat_interval_seconds?: number; master_info?: { id?: string; hostname?: string } };
  offers?: { offers?: Offer[] };
  inverse_offers?: { inverse_offers?: Array<{ id: Value }> };
  rescind?: { offer_id: Value };
  update?: { status: TaskStatus };
  failure?: { agent_id?: Value; executor_id?: Value; status?: number };
  error?: { message?: string };
}

/** A task as `GET /master/tasks` lists it. */
export interface OperatorTask {
  id: string;
  name?: string;
  framework_id: string;
  slave_id?: string;
  state: string;
}

export const ACTIVE_STATES: ReadonlySet<string> = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']);

/** States after which the task does not run (TASK_UNREACHABLE is not one: it may come back). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
]);
