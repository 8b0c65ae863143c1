import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type ConfigSchemaSection, type EbbtideConfig, EbbtideError } from '@ebbtide/core';
import { expandCommand } from './expandCommand.js';

/** The `backend.mesos.*` config section. */
export const mesosSchema = {
  backend: {
    mesos: {
      master: {
        doc: 'URL of a Mesos master, e.g. http://mesos-master:5050 (any master of an HA set: calls follow 307 redirects to the leader). Required with backend.type: mesos.',
        format: 'string',
        default: '',
      },
      command: {
        doc: 'Command that starts one worker on an agent, as an argument array (run by the Mesos command executor without a shell); {name}, {scheduler}, {nthreads} and {memoryLimit} are replaced. The program must be on the agents\' PATH or an absolute path there.',
        format: 'command',
        default: ['ebbtide-worker', '--scheduler', '{scheduler}', '--name', '{name}', '--nthreads', '{nthreads}', '--memory-limit', '{memoryLimit}'],
      },
      env: {
        doc: 'Extra environment variables for worker tasks.',
        format: 'string-map',
        default: {},
      },
      cpus: {
        doc: 'cpus resource of each worker task; null: cluster.nthreads.',
        format: 'positive-number-or-null',
        default: null,
      },
      memory: {
        doc: 'mem resource of each worker task (bytes or "4GiB"; Mesos counts MB); 0: cluster.memoryLimit, or 1GiB when that is 0 too.',
        format: 'bytes',
        default: 0,
      },
      role: {
        doc: 'Role the framework subscribes with (MULTI_ROLE); offers for it are used, their allocation role copied into each task.',
        format: 'name',
        default: '*',
      },
      user: {
        doc: 'User the worker tasks run as on the agents (FrameworkInfo.user). Empty: the user running ebbtide.',
        format: 'string',
        default: '',
      },
      frameworkName: {
        doc: 'FrameworkInfo.name shown by the master. Empty: "ebbtide <cluster.name>".',
        format: 'string',
        default: '',
      },
      principal: {
        doc: 'Principal for HTTP basic authentication to the master (and FrameworkInfo.principal). Empty: no authentication.',
        format: 'string',
        default: '',
      },
      secret: {
        doc: 'Secret for HTTP basic authentication, with principal.',
        format: 'string',
        default: '',
        sensitive: true,
      },
      failoverTimeout: {
        doc: 'How long the master keeps the framework\'s tasks after ebbtide disconnects (FrameworkInfo.failover_timeout), so a restarted ebbtide re-subscribes with the same framework id and adopts them. 0 makes the master kill every worker as soon as the connection drops.',
        format: 'duration',
        default: '7d',
      },
      gracePeriod: {
        doc: 'Kill grace period of a retired worker: the command executor sends SIGTERM, then SIGKILL after this.',
        format: 'duration',
        default: '5s',
      },
      pendingTimeout: {
        doc: 'A worker that no offer could fit within this time is given up and reported failed for lack of capacity (the cluster then backs off).',
        format: 'positive-duration',
        default: '2m',
      },
      stateDir: {
        doc: 'Folder of the per-cluster state (the framework id, so a restarted ebbtide re-subscribes as the same framework; the lock). Empty: $XDG_CACHE_HOME/ebbtide/mesos, else ~/.cache/ebbtide/mesos.',
        format: 'string',
        default: '',
      },
      requestTimeout: {
        doc: 'Timeout of each call to the master (the subscription stream is watched by heartbeats instead).',
        format: 'positive-duration',
        default: '30s',
      },
    },
  },
} satisfies ConfigSchemaSection;

export interface MesosBackendOptions {
  master: string;
  command: string[];
  env: Record<string, string>;
  /** null: the worker spec's nthreads. */
  cpus: number | null;
  /** MB; 0: from the spec's memoryLimit. */
  memoryMb: number;
  role: string;
  user: string;
  frameworkName: string;
  principal: string;
  secret: string;
  /** Seconds. */
  failoverTimeout: number;
  /** Seconds. */
  gracePeriod: number;
  /** Seconds. */
  pendingTimeout: number;
  stateDir: string;
  /** Seconds. */
  requestTimeout: number;
  /** cluster.name, for a backend used before adopt(). */
  cluster: string;
}

/** The default state folder: the user's cache folder. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebbtide', 'mesos');
}

/**
 * Checks a master URL: http or https, a host, no query.
 * @throws EbbtideError `CONFIG_INVALID` naming `backend.mesos.master`.
 */
export function checkMasterUrl(master: string): string {
  const key = 'backend.mesos.master';
  if (!master) {
    throw new EbbtideError('CONFIG_INVALID', `${key}: expected the URL of a Mesos master such as http://mesos-master:5050, got nothing`, {
      key,
      hint: 'set backend.mesos.master in the config file or EBBTIDE_BACKEND_MESOS_MASTER',
    });
  }
  let u: URL;
  try {
    u = new URL(master);
  } catch {
    throw new EbbtideError('CONFIG_INVALID', `${key}: expected a URL such as http://mesos-master:5050, got ${JSON.stringify(master)}`, { key });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new EbbtideError('CONFIG_INVALID', `${key}: expected an http:// or https:// URL, got ${JSON.stringify(master)}`, { key });
  }
  return master.replace(/\/+$/, '');
}

/**
 * The typed options. The master URL is checked only when this backend is the one selected, so a
 * config for another backend need not mention Mesos.
 * @throws EbbtideError `CONFIG_INVALID`
 */
export function mesosOptions(config: EbbtideConfig): MesosBackendOptions {
  const s = (config.backend as unknown as { mesos: Omit<MesosBackendOptions, 'memoryMb' | 'cluster'> & { memory: number } }).mesos;
  expandCommand(s.command, { name: 'w', scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 });
  const selected = config.backend.type === 'mesos';
  return {
    master: selected ? checkMasterUrl(s.master) : s.master,
    command: [...s.command],
    env: { ...s.env },
    cpus: s.cpus,
    memoryMb: s.memory > 0 ? Math.ceil(s.memory / 2 ** 20) : 0,
    role: s.role,
    user: s.user || userInfo().username,
    frameworkName: s.frameworkName,
    principal: s.principal,
    secret: s.secret,
    failoverTimeout: s.failoverTimeout,
    gracePeriod: s.gracePeriod,
    pendingTimeout: s.pendingTimeout,
    stateDir: s.stateDir || defaultStateDir(),
    requestTimeout: s.requestTimeout,
    cluster: config.cluster.name,
  };
}
