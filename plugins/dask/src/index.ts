import { definePlugin } from '@ebbtide/core';
import { DaskTargetHeuristic } from './DaskTargetHeuristic.js';
import { DaskWorkersToClose } from './DaskWorkersToClose.js';
import { type DaskOptions, daskOptions, daskSchema } from './config.js';
import { HostWorkerKey, LabelWorkerKey, NoneWorkerKey } from './workerKeys.js';

export { adaptiveTarget, type AdaptiveTargetResult } from './adaptiveTarget.js';
export { selectWorkersToClose, type SelectQuery } from './selectWorkersToClose.js';
export { selectFromView } from './selectFromView.js';
export { prefixDuration } from './prefixDuration.js';
export { DaskTargetHeuristic } from './DaskTargetHeuristic.js';
export { DaskWorkersToClose, type DaskQueryExtras } from './DaskWorkersToClose.js';
export { HostWorkerKey, LabelWorkerKey, NoneWorkerKey } from './workerKeys.js';
export { DASK_DEFAULT_SETTINGS, type DaskHeuristicSettings, type DaskOptions, daskOptions, daskSchema } from './config.js';

/** Dask's adaptive defaults: heuristic `dask`, workers-to-close `dask`, worker keys `none`, `host`, `label:<name>`. */
const daskPlugin = definePlugin<DaskOptions>({
  name: 'dask',
  description: "Dask's adaptive_target, workers_to_close and worker_key groupings",
  configSchema: daskSchema,
  options: daskOptions,
  register(r) {
    r.heuristic('dask', DaskTargetHeuristic);
    r.workersToClose('dask', DaskWorkersToClose);
    r.workerKey('none', NoneWorkerKey);
    r.workerKey('host', HostWorkerKey);
    r.workerKey('label', LabelWorkerKey, { parameter: 'name' });
  },
});

export default daskPlugin;
export { daskPlugin };
export { sumWorkers } from './adaptiveTarget.js';
