import {
  type BackendWorkerStatus,
  EbbtideError,
  type ResourceBackend,
  type RetireResult,
  type SchedulerAdapter,
  type SchedulerEvent,
} from '@ebbtide/core';
import { EMPTY, type Observable } from 'rxjs';

function onlyInSimulation(key: 'scheduler.type' | 'backend.type'): EbbtideError {
  return new EbbtideError(
    'CONFIG_INVALID',
    `${key}: "simulator" runs only inside a simulation (simulate() or \`ebbtide simulate\`), which supplies the simulated scheduler and backend`,
    { key, hint: `choose a real ${key} to run against real workers` },
  );
}

/**
 * What `scheduler.type: simulator` resolves to outside a simulation: a clear error. The name is
 * registered so a simulation's kernel accepts it; `simulate()` passes its own instances.
 *
 * @throws EbbtideError `CONFIG_INVALID` when constructed.
 */
export class SimulatorOnlySchedulerAdapter implements SchedulerAdapter {
  readonly events$: Observable<SchedulerEvent> = EMPTY;

  constructor() {
    throw onlyInSimulation('scheduler.type');
  }

  async start(): Promise<void> {}
  async retire(names: string[]): Promise<RetireResult> {
    return { outcomes: names.map((name) => ({ name, status: 'unknown' })) };
  }
  async close(): Promise<void> {}
}

/**
 * What `backend.type: simulator` resolves to outside a simulation: a clear error.
 *
 * @throws EbbtideError `CONFIG_INVALID` when constructed.
 */
export class SimulatorOnlyBackend implements ResourceBackend {
  readonly status$: Observable<BackendWorkerStatus[]> = EMPTY;

  constructor() {
    throw onlyInSimulation('backend.type');
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async close(): Promise<void> {}
}
