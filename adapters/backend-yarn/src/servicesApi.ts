/** The parts of the YARN Services API records (hadoop-yarn-services-api) the backend reads and writes. */
export interface ApiContainer {
  /** The YARN container id. */
  id: string;
  component_instance_name: string;
  /** RUNNING_BUT_UNREADY, READY, STOPPED, SUCCEEDED, FAILED, NEEDS_UPGRADE, UPGRADING. */
  state?: string;
  hostname?: string;
  bare_host?: string;
  ip?: string;
}

export interface ApiComponent {
  name: string;
  /** INIT, FLEXING, STABLE, UPGRADING, NEEDS_UPGRADE. */
  state?: string;
  number_of_containers?: number;
  decommissioned_instances?: string[];
  containers?: ApiContainer[];
  launch_command?: string;
  resource?: { cpus?: number; memory?: string };
  restart_policy?: string;
  configuration?: { env?: Record<string, string>; properties?: Record<string, string> };
}

export interface ApiService {
  name: string;
  version?: string;
  /** The YARN application id once submitted. */
  id?: string;
  /** ACCEPTED, STARTED, STABLE, STOPPED, FAILED, FLEX, UPGRADING, …, SUCCEEDED. */
  state?: string;
  queue?: string;
  lifetime?: number;
  components?: ApiComponent[];
}

/** Service states in which the service AM runs and takes flex and decommission requests. */
export const RUNNING_STATES = new Set(['STARTED', 'STABLE', 'FLEX']);
/** Service states after which nothing runs until the service is destroyed and made again. */
export const ENDED_STATES = new Set(['STOPPED', 'FAILED', 'SUCCEEDED']);

/** Container states the AM gives a container that ended (it stays listed until the relaunch has a new one). */
export const ENDED_CONTAINER_STATES = new Set(['FAILED', 'SUCCEEDED']);

export const SERVICES = '/app/v1/services';

export function servicePath(service: string): string {
  return `${SERVICES}/${encodeURIComponent(service)}`;
}
