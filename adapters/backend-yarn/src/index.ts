import { definePlugin } from '@ebbtide/core';
import { YarnBackend } from './YarnBackend.js';
import { type YarnBackendOptions, yarnOptions, yarnSchema } from './config.js';

export { YarnBackend, WORKER_NAME_ENV, SCHEDULER_ENV } from './YarnBackend.js';
export { type YarnBackendOptions, yarnOptions, yarnSchema, containerMemoryMb } from './config.js';
export { buildLaunchCommand, resolveCommand, INSTANCE_NAME_TOKEN } from './launchCommand.js';
export { describeExit } from './exitStatus.js';
export { type ComponentView, liveIndices, planAddition, planRemoval, indexOf, nameOf } from './instanceNames.js';

/** `backend.type: yarn` — workers as the instances of one YARN service, through the Services REST API. */
const yarnBackendPlugin = definePlugin<YarnBackendOptions>({
  name: 'yarn',
  description: 'workers as the instances of one YARN service (Services REST API of the ResourceManager)',
  configSchema: yarnSchema,
  options: yarnOptions,
  register(r) {
    r.backend('yarn', YarnBackend);
  },
});

export default yarnBackendPlugin;
export { yarnBackendPlugin };
