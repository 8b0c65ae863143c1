import { type WorkerSpec, expandWorkerCommand } from '@ebbtide/core';

/** `backend.local.command` filled in for one worker (see `expandWorkerCommand`). */
export function expandCommand(template: readonly string[], spec: WorkerSpec): string[] {
  return expandWorkerCommand(template, spec, 'backend.local.command');
}
