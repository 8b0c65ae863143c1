import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { PLUGIN_OPTIONS, type SchedulerSnapshot, type WorkersToClose, type WorkersToCloseQuery } from '@ebbtide/core';
import type { DaskOptions } from './config.js';
import { selectWorkersToClose } from './selectWorkersToClose.js';

/** `workersToClose: dask` — Dask's `workers_to_close`, grouped by the configured worker key. */
@injectable()
export class DaskWorkersToClose implements WorkersToClose {
  constructor(@inject(PLUGIN_OPTIONS) private readonly options: DaskOptions) {}

  select(snapshot: SchedulerSnapshot, query: WorkersToCloseQuery): string[] {
    const { key, memoryRatio, ...rest } = query;
    const ratio = memoryRatio ?? this.options?.memoryRatio;
    return selectWorkersToClose(snapshot.workers, {
      ...rest,
      ...(ratio !== undefined ? { memoryRatio: ratio } : {}),
      ...(key ? { key: (w) => key.key(w) } : {}),
    });
  }
}
