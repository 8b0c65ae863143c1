import type { PoolConfig } from './PoolConfig.js';

/**
 * The environment that tells a pool's worker what it offers, for backends that pass a spec's
 * `env` on (all built-in ones do): ebbtide's worker reads `EBBTIDE_WORKER_RESOURCES`
 * (`GPU=1,MEM=2`, Dask's `--resources` syntax) and `EBBTIDE_WORKER_LABELS` (JSON); a Dask worker
 * reads `DASK_DISTRIBUTED__WORKER__RESOURCES` (a dict literal: Dask lowercases the names in a
 * variable's name but not in its value).
 */
export function poolWorkerEnv(pool: Pick<PoolConfig, 'name' | 'resources' | 'labels'>): Record<string, string> {
  const env: Record<string, string> = { EBBTIDE_WORKER_POOL: pool.name };
  const resources = Object.entries(pool.resources);
  if (resources.length) {
    env.EBBTIDE_WORKER_RESOURCES = resources.map(([k, v]) => `${k}=${v}`).join(',');
    env.DASK_DISTRIBUTED__WORKER__RESOURCES = JSON.stringify(pool.resources);
  }
  if (Object.keys(pool.labels).length) env.EBBTIDE_WORKER_LABELS = JSON.stringify(pool.labels);
  return env;
}
