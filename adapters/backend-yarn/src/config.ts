import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type ConfigSchemaSection, type EbbtideConfig, EbbtideError } from '@ebbtide/core';
import { buildLaunchCommand } from './launchCommand.js';

/** The `backend.yarn.*` config section. */
export const yarnSchema = {
  backend: {
    yarn: {
      resourceManagers: {
        doc: 'ResourceManager web addresses (http://host:8088), one per RM of an HA pair; requests go to the active one and move on when an RM is down or standby. Required.',
        format: 'string-list',
        default: [],
      },
      user: {
        doc: 'The user.name sent with every request (non-secure clusters): the service runs as, and is owned by, this user. Empty: the user running ebbtide.',
        format: 'string',
        default: '',
      },
      queue: {
        doc: 'YARN queue the service is submitted to.',
        format: 'string',
        default: 'default',
      },
      serviceName: {
        doc: 'Name of the YARN service that holds the cluster\'s workers (lowercase letters, digits and dashes). Empty: ebbtide-<cluster.name>. The worker component is named after the cluster, so this must differ from cluster.name.',
        format: 'string',
        default: '',
      },
      command: {
        doc: 'Command that starts one worker on a NodeManager, as an argument array; {name}, {scheduler}, {nthreads} and {memoryLimit} are replaced ({name} by the YARN instance name, which is the worker name). A first element without a slash is looked up in node_modules/.bin here, then left to the NodeManager\'s PATH.',
        format: 'command',
        default: ['ebbtide-worker', '--scheduler', '{scheduler}', '--name', '{name}', '--nthreads', '{nthreads}', '--memory-limit', '{memoryLimit}'],
      },
      cpus: {
        doc: 'Virtual cores per worker container.',
        format: 'positive-integer',
        default: 1,
      },
      memory: {
        doc: 'Memory per worker container (YARN kills a container that uses more). 0: the worker memory limit rounded up to a MiB, or 1 GiB when there is none.',
        format: 'bytes',
        default: 0,
      },
      lifetime: {
        doc: 'Lifetime of the service; YARN stops it afterwards. 0: unlimited.',
        format: 'duration',
        default: 0,
      },
      env: {
        doc: 'Extra environment variables for worker containers.',
        format: 'string-map',
        default: {},
      },
      pollInterval: {
        doc: 'How often the service and its instances are read from the Services API.',
        format: 'positive-duration',
        default: '2s',
      },
      pendingTimeout: {
        doc: 'How long a worker may wait for a container (queue full, no room on any node, service AM not allocated) before it is given up and the backend reported capacity-limited.',
        format: 'positive-duration',
        default: '5m',
      },
      relaunchGrace: {
        doc: 'After a worker failed, YARN relaunches it under the same name; if ebbtide does not ask for it again within this time it is removed, so no worker is left that nobody manages.',
        format: 'positive-duration',
        default: '1m',
      },
      requestTimeout: {
        doc: 'Timeout of one HTTP request to a ResourceManager.',
        format: 'positive-duration',
        default: '30s',
      },
      stateDir: {
        doc: 'Folder of the per-service lock files that keep two ebbtides on this machine from driving one service. Empty: $XDG_CACHE_HOME/ebbtide/yarn, else ~/.cache/ebbtide/yarn.',
        format: 'string',
        default: '',
      },
    },
  },
} satisfies ConfigSchemaSection;

export interface YarnBackendOptions {
  resourceManagers: string[];
  user: string;
  queue: string;
  /** Empty: the cluster's name (resolved at adopt/start). */
  serviceName: string;
  command: string[];
  cpus: number;
  /** Bytes; 0 = from the worker memory limit. */
  memory: number;
  /** Seconds; 0 = unlimited. */
  lifetime: number;
  env: Record<string, string>;
  /** Seconds. */
  pollInterval: number;
  /** Seconds. */
  pendingTimeout: number;
  /** Seconds. */
  relaunchGrace: number;
  /** Seconds. */
  requestTimeout: number;
  stateDir: string;
}

const YARN_NAME = /^[a-z][a-z0-9-]*$/;

/** YARN's own rule for service and component names (ServiceApiUtil), at most 63 characters. */
export function checkYarnName(key: string, name: string): void {
  if (!YARN_NAME.test(name) || name.length > 63) {
    throw new EbbtideError(
      'CONFIG_INVALID',
      `${key}: "${name}" is not a valid YARN service or component name; use lowercase letters, digits and dashes, starting with a letter, at most 63 characters`,
      { key },
    );
  }
}

function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebbtide', 'yarn');
}

/**
 * The typed options, checked so that `ebbtide config --check` reports a missing RM list, a bad
 * URL or a command typo instead of every start failing at run time.
 * @throws EbbtideError `CONFIG_INVALID`
 */
export function yarnOptions(config: EbbtideConfig): YarnBackendOptions {
  const s = (config.backend as unknown as { yarn: YarnBackendOptions }).yarn;
  const rms = s.resourceManagers.map((u) => u.trim().replace(/\/+$/, '')).filter(Boolean);
  for (const u of rms) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new EbbtideError('CONFIG_INVALID', `backend.yarn.resourceManagers: "${u}" is not a URL; expected http://host:8088`, { key: 'backend.yarn.resourceManagers' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EbbtideError('CONFIG_INVALID', `backend.yarn.resourceManagers: "${u}" must be an http:// or https:// URL`, { key: 'backend.yarn.resourceManagers' });
    }
  }
  if (s.serviceName) checkYarnName('backend.yarn.serviceName', s.serviceName);
  buildLaunchCommand(s.command, { scheduler: 'tcp://127.0.0.1:1', nthreads: 1, memoryLimit: 0 });
  return {
    resourceManagers: rms,
    user: s.user || userInfo().username,
    queue: s.queue,
    serviceName: s.serviceName,
    command: [...s.command],
    cpus: s.cpus,
    memory: s.memory,
    lifetime: s.lifetime,
    env: { ...s.env },
    pollInterval: s.pollInterval,
    pendingTimeout: s.pendingTimeout,
    relaunchGrace: s.relaunchGrace,
    requestTimeout: s.requestTimeout,
    stateDir: s.stateDir || defaultStateDir(),
  };
}

/** Container memory in MiB: the configured size, else the worker's memory limit, else 1 GiB. */
export function containerMemoryMb(options: Pick<YarnBackendOptions, 'memory'>, memoryLimit: number): number {
  const bytes = options.memory || memoryLimit || 1024 * 1024 * 1024;
  return Math.max(1, Math.ceil(bytes / (1024 * 1024)));
}
