import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { PLUGIN_OPTIONS, type SchedulerSnapshot, type WorkersToClose, type WorkersToCloseQuery, type WorkersToCloseView } from '@ebbtide/core';
import type { DaskOptions } from './config.js';

/** Dask's own `workers_to_close` parameters, beyond the core's query. */
export interface DaskQueryExtras {
  n?: number;
  minimum?: number;
  memoryRatio?: number;
}
import { selectFromView } from './selectFromView.js';
import { selectWorkersToClose } from './selectWorkersToClose.js';

/** `workersToClose: dask` — Dask's `workers_to_close`, grouped by the configured worker key. */
@injectable()
export class DaskWorkersToClose implements WorkersToClose {
  constructor(@inject(PLUGIN_OPTIONS) private readonly options: Partial<DaskOptions> = {}) {}

  /**
   * The core asks with `{ target, key }`; a direct caller may also pass Dask's own `n`,
   * `minimum` and `memoryRatio` (a query's `memoryRatio` wins over the `dask.memoryRatio` option).
   */
  select(snapshot: SchedulerSnapshot, query: WorkersToCloseQuery & DaskQueryExtras): string[] {
    const { key, memoryRatio, ...rest } = query;
    const ratio = memoryRatio ?? this.options?.memoryRatio;
    return selectWorkersToClose(snapshot.workers, {
      ...rest,
      ...(ratio !== undefined ? { memoryRatio: ratio } : {}),
      ...(key ? { key: (w) => key.key(w) } : {}),
    });
  }

  /** The same answer from the store's closing order (the core asks it for the query's key). */
  selectFromView(view: WorkersToCloseView, query: WorkersToCloseQuery & DaskQueryExtras): string[] {
    const { key: _key, memoryRatio, ...rest } = query;
    const ratio = memoryRatio ?? this.options?.memoryRatio;
    return selectFromView(view, { ...rest, ...(ratio !== undefined ? { memoryRatio: ratio } : {}) });
  }
}
