import '@ebbtide/core';
import { describeHeuristic, describeWorkerKey, describeWorkersToClose } from '@ebbtide/core/testing';
import { DaskTargetHeuristic } from '../src/DaskTargetHeuristic.js';
import { DaskWorkersToClose } from '../src/DaskWorkersToClose.js';
import { DASK_DEFAULT_SETTINGS } from '../src/config.js';
import { HostWorkerKey, LabelWorkerKey, NoneWorkerKey } from '../src/workerKeys.js';

describeHeuristic('dask (adaptive_target)', () => new DaskTargetHeuristic(DASK_DEFAULT_SETTINGS));
describeWorkersToClose('dask (workers_to_close)', () => new DaskWorkersToClose());
describeWorkersToClose('dask with dask.memoryRatio 2', () => new DaskWorkersToClose({ memoryRatio: 2 }));
describeWorkerKey('none', () => new NoneWorkerKey());
describeWorkerKey('host', () => new HostWorkerKey());
describeWorkerKey('label:job', () => new LabelWorkerKey('job'));
