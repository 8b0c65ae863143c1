import { type SchedulerLike, firstValueFrom, timer } from 'rxjs';
import { type Logger, describeError } from '@ebbtide/core';
import type { RmClient } from './RmClient.js';
import type { ApiService } from './servicesApi.js';

interface AppAttempts {
  appAttempts?: { appAttempt?: Array<{ appAttemptId?: string; id?: number }> | { appAttemptId?: string } } | null;
}
interface Containers {
  container?: Array<{ containerId?: string }> | { containerId?: string } | null;
}
interface NodeInfo {
  nodeHostName?: string;
  nodeHTTPAddress?: string;
  state?: string;
}
interface Nodes {
  nodes?: { node?: Array<NodeInfo> | NodeInfo } | null;
}
interface ClusterMetrics {
  clusterMetrics?: {
    availableMB?: number;
    availableVirtualCores?: number;
    containersPending?: number;
    appsPending?: number;
    activeNodes?: number;
  };
}

/** ContainerExitStatus.INVALID: no exit status known. */
const INVALID_EXIT = -1000;

/** Jersey 1 (Hadoop's RM REST) writes a one-element list as a bare object and an empty one as null. */
export function asArray<T>(v: T[] | T | null | undefined): T[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * Read-only looks at the ResourceManager's REST API (`/ws/v1/cluster/...`) and a NodeManager's,
 * for what the Services API does not say: which containers still run, a container's exit status,
 * why a request waits. Every look is best-effort: a failure makes the answer "unknown", never an
 * error of the backend.
 */
export class YarnProbe {
  constructor(
    private readonly rm: RmClient,
    private readonly logger: Logger,
  ) {}

  private async json<T>(path: string): Promise<T | undefined> {
    try {
      const res = await this.rm.request(path);
      return res.status === 200 ? (res.json as T) : undefined;
    } catch (e) {
      this.logger.debug({ event: 'yarn.probe-failed', path, error: describeError(e) }, 'ResourceManager look failed');
      return undefined;
    }
  }

  /** Ids of the containers the RM lists for the application's current attempt, or undefined when unknown. */
  async runningContainers(appId: string): Promise<Set<string> | undefined> {
    const attempts = await this.json<AppAttempts>(`/ws/v1/cluster/apps/${appId}/appattempts`);
    const list = asArray(attempts?.appAttempts?.appAttempt);
    const last = list[list.length - 1];
    if (!last?.appAttemptId) return attempts ? new Set() : undefined;
    const containers = await this.json<Containers>(`/ws/v1/cluster/apps/${appId}/appattempts/${last.appAttemptId}/containers`);
    if (!containers) return undefined;
    return new Set(asArray(containers.container).map((c) => c.containerId ?? '').filter(Boolean));
  }

  /** Waits (bounded) until the RM lists no container for the application. */
  async waitNoContainers(appId: string, rx: SchedulerLike, seconds: number): Promise<void> {
    const until = rx.now() + seconds * 1000;
    while (rx.now() < until) {
      const running = await this.runningContainers(appId);
      if (!running || running.size === 0) return;
      await firstValueFrom(timer(250, rx));
    }
    this.logger.warn({ event: 'yarn.containers-linger', app: appId, seconds }, 'the RM still lists containers of the destroyed service');
  }

  /** The RM's diagnostics of the application (why the AM failed). */
  async appDiagnostics(appId: string | undefined): Promise<string> {
    if (!appId) return '';
    const app = await this.json<{ app?: { diagnostics?: string; finalStatus?: string } }>(`/ws/v1/cluster/apps/${appId}`);
    return (app?.app?.diagnostics ?? '').trim().replace(/\s+/g, ' ').slice(0, 1000);
  }

  /**
   * Exit status and diagnostics of a finished container, from its NodeManager's REST API — the
   * only REST API that has them: the RM lists live containers only (its app attempt containers
   * endpoint answers 404 for an ended one) and the Services API's container record has no exit
   * status. The NodeManager keeps a finished container only until the RM tells it the AM has
   * seen the end (the AM's next allocate after it learnt it, then the NodeManager's next
   * heartbeat: 1–2 s with YARN's default intervals).
   */
  async containerExit(containerId: string, host?: string): Promise<{ exitStatus?: number; diagnostics?: string } | undefined> {
    const nodes = await this.json<Nodes>('/ws/v1/cluster/nodes');
    const all = asArray(nodes?.nodes?.node).filter((n) => !/:0$/.test(n.nodeHTTPAddress ?? ''));
    const candidates = all.filter((n) => n.nodeHTTPAddress && (!host || n.nodeHostName === host));
    for (const node of candidates.length ? candidates : all) {
      if (!node.nodeHTTPAddress) continue;
      try {
        const res = await fetch(`http://${node.nodeHTTPAddress}/ws/v1/node/containers/${containerId}`, { headers: { accept: 'application/json' } });
        if (!res.ok) continue;
        const body = (await res.json()) as { container?: { exitCode?: number; diagnostics?: string } };
        const code = body.container?.exitCode;
        // -1000 (ContainerExitStatus.INVALID): the NodeManager has no exit status for it (yet).
        if (body.container) return { ...(code === undefined || code === INVALID_EXIT ? {} : { exitStatus: code }), diagnostics: body.container.diagnostics ?? '' };
      } catch (e) {
        this.logger.debug({ event: 'yarn.nm-look-failed', node: node.nodeHTTPAddress, error: describeError(e) }, 'NodeManager look failed');
      }
    }
    return undefined;
  }

  /** Why a worker still has no container: the AM waits for one, or the cluster or queue is full. */
  async pendingReason(service: ApiService, queue: string, memoryMb: number, cpus: number): Promise<string> {
    const metrics = (await this.json<ClusterMetrics>('/ws/v1/cluster/metrics'))?.clusterMetrics;
    const free = metrics ? `; the cluster has ${metrics.availableMB ?? '?'} MiB and ${metrics.availableVirtualCores ?? '?'} vcores free on ${metrics.activeNodes ?? '?'} node(s), ${metrics.containersPending ?? 0} container request(s) pending` : '';
    if (!service.state || service.state === 'ACCEPTED') {
      return `YARN has not started the service AM of ${service.name} yet (queue ${queue} full, or its maximum-am-resource-percent reached)${free}`;
    }
    return `YARN found no room for a ${memoryMb} MiB / ${cpus} vcore container in queue ${queue}${free}`;
  }
}
