import type { WorkerInfo } from '@ebbtide/core';
import type { DaskSchedulerOptions } from '../../src/index.js';

/** Adapter options for tests: fast polls, short timeouts. */
export function adapterOptions(address: string, overrides: Partial<DaskSchedulerOptions> = {}): DaskSchedulerOptions {
  return {
    address,
    pollIntervalMs: 200,
    maxPollIntervalMs: 800,
    timeoutMs: 5000,
    maxStartAttempts: 1,
    retireTimeoutMs: 60_000,
    claimTtlMs: 30_000,
    defaultTaskDurations: {},
    ...overrides,
  };
}

/** Snapshot of the scheduler's own state, from test/fixtures/dask_client.py `scheduler_view`. */
export interface SchedulerView {
  prefixes: Record<string, { queued: number; unrunnable: number }>;
  workers: Array<Omit<WorkerInfo, 'labels' | 'status' | 'resources'> & { status: string }>;
}
