import type { WorkerInfo } from './WorkerInfo.js';

/**
 * Maps a worker to the group it must be closed with (Dask's `worker_key`). Workers with the same
 * key are retired together or not at all. Must be pure.
 */
export interface WorkerKey {
  key(worker: WorkerInfo): string;
}
