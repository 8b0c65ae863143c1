import { type WorkerSpec, expandWorkerCommand } from '@ebbtide/core';

/** `backend.mesos.command` filled in for one worker (see `expandWorkerCommand`). */
export function expandCommand(template: readonly string[], spec: WorkerSpec): string[] {
  return expandWorkerCommand(template, spec, 'backend.mesos.command');
}
