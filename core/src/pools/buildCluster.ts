import { Cluster, type ClusterOptions } from '../cluster/Cluster.js';
import type { ClusterLike } from '../cluster/ClusterLike.js';
import type { ResourceBackend } from '../contracts/ResourceBackend.js';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import { EbbtideError, isEbbtideError } from '../errors.js';
import type { Kernel } from '../plugins/Kernel.js';
import { hasGuardRails } from './GuardRails.js';
import type { PoolConfig } from './PoolConfig.js';
import { PoolSet, defaultPool } from './PoolSet.js';
import { poolSettings } from './poolSettings.js';

/** What the autoscaler drives: one `Cluster`, or a `PoolSet` (then also `pools`). */
export interface BuiltCluster {
  cluster: ClusterLike;
  /** The one backend, or every pool's as one. */
  backend: ResourceBackend;
  pools?: PoolSet;
}

/** Ready-made backends (the simulator's): one for a config without pools, one per pool name with pools. */
export interface GivenBackends {
  backend?: ResourceBackend;
  backends?: Record<string, ResourceBackend>;
}

/**
 * The config a pool's backend is built with: the pool's own `backend` section, and the pool as
 * the cluster (`{cluster}-{pool}`, with its worker size), since backends name their locks,
 * labels and state after `cluster.name`.
 */
export function poolBackendConfig(config: Kernel['config'], pool: PoolConfig): Kernel['config'] {
  return {
    ...config,
    backend: pool.backend,
    cluster: {
      ...config.cluster,
      name: `${config.cluster.name}-${pool.name}`,
      nthreads: pool.nthreads ?? config.cluster.nthreads,
      memoryLimit: pool.memoryLimit ?? config.cluster.memoryLimit,
    },
  };
}

/**
 * Checks the selections a config with pools needs: every pool's `backend.type` and the
 * `allocation`, each error naming the pool's key.
 *
 * @throws EbbtideError `CONFIG_UNKNOWN_NAME` / `CONFIG_INVALID`.
 */
export function checkPoolSelections(kernel: Kernel, given: GivenBackends): void {
  const { pools } = poolSettings(kernel.config);
  if (!pools.length) return;
  kernel.checkSelections(['allocation']);
  pools.forEach((p, i) => {
    if (given.backends?.[p.name]) return;
    try {
      kernel.registry.lookup('backend', p.backend.type);
    } catch (e) {
      if (!isEbbtideError(e) || !p.ownBackend) throw e;
      throw new EbbtideError(e.code, `pools[${i}] (${p.name}): ${e.message}`, { key: `pools[${i}].backend.type`, ...(e.hint ? { hint: e.hint } : {}) });
    }
  });
}

/**
 * The cluster the config describes: without `pools:` and without guard rails, one `Cluster` over
 * the backend, exactly as before pools existed; with guard rails only, a `PoolSet` of the one
 * pool `default` (same worker names); with `pools:`, a `PoolSet` with one `Cluster` per pool over
 * the pool's own backend (resolved from the pool's `backend` section, or given).
 *
 * @throws EbbtideError `INPUT_INVALID` when pools are configured but a single backend was given.
 */
export function buildCluster(kernel: Kernel, scheduler: SchedulerAdapter, given: GivenBackends): BuiltCluster {
  const config = kernel.config;
  const shared: Omit<ClusterOptions, 'name' | 'pool'> = {
    schedulerAddress: () => scheduler.address ?? config.scheduler.address,
    workerEnv: () => scheduler.workerEnv,
    nthreads: config.cluster.nthreads,
    memoryLimit: config.cluster.memoryLimit,
    workerStartTimeout: config.cluster.workerStartTimeout,
    lostWorkerTimeout: config.cluster.lostWorkerTimeout,
  };
  const logger = kernel.logger.child({ component: 'cluster' });
  const { rails, pools } = poolSettings(config);
  const demand = {
    targetDuration: config.adaptive.targetDuration,
    unknownTaskDuration: config.scheduler.unknownTaskDuration,
    defaultTaskDurations: config.scheduler.defaultTaskDurations,
  };
  if (!pools.length) {
    const backend = given.backend ?? kernel.resolve('backend');
    if (!hasGuardRails(rails)) {
      const cluster = new Cluster(backend, { ...shared, name: config.cluster.name }, kernel.rxScheduler, logger);
      return { cluster, backend };
    }
    const set = new PoolSet(
      {
        cluster: config.cluster.name,
        pools: [{ config: defaultPool(config.backend as PoolConfig['backend'], config.adaptive.minimum, config.adaptive.maximum, rails), backend }],
        single: true,
        rails,
        demand,
        clusterOptions: shared,
      },
      kernel.rxScheduler,
      logger,
    );
    return { cluster: set, backend: set.backend, pools: set };
  }
  if (given.backend && !given.backends) {
    throw new EbbtideError('INPUT_INVALID', `the config has ${pools.length} pools: give one backend per pool (backends: { ${pools.map((p) => p.name).join(', ')} }), not one backend`);
  }
  const set = new PoolSet(
    {
      cluster: config.cluster.name,
      pools: pools.map((p) => ({
        config: p,
        backend: given.backends?.[p.name] ?? kernel.resolve('backend', p.backend.type, { config: poolBackendConfig(config, p), fields: { pool: p.name } }),
      })),
      single: false,
      rails,
      allocator: kernel.resolve('allocation'),
      demand,
      clusterOptions: shared,
    },
    kernel.rxScheduler,
    logger,
  );
  return { cluster: set, backend: set.backend, pools: set };
}
