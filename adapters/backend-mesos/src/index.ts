import { definePlugin } from '@ebbtide/core';
import { MesosBackend } from './MesosBackend.js';
import { type MesosBackendOptions, mesosOptions, mesosSchema } from './config.js';

export { MesosBackend } from './MesosBackend.js';
export { MesosHttp, type CallResult, type MesosHttpOptions, type OpenStream } from './MesosHttp.js';
export { MesosSubscription, MISSED_HEARTBEATS, reconnectDelayMs } from './MesosSubscription.js';
export { FrameworkStateFile, type FrameworkRecord, type LockOwner } from './FrameworkStateFile.js';
export { RecordIOParser, MAX_RECORD_BYTES } from './RecordIOParser.js';
export { packOffer, offerSize, type OfferedResource, type PackedTask, type WantedTask } from './packOffer.js';
export { taskInfo, taskSize } from './taskInfo.js';
export { type Transition, describeStatus, taskTransition } from './taskTransition.js';
export { type MesosBackendOptions, checkMasterUrl, defaultStateDir, mesosOptions, mesosSchema } from './config.js';

/** `backend.type: mesos` — workers as Mesos tasks of one framework per cluster. */
const mesosBackendPlugin = definePlugin<MesosBackendOptions>({
  name: 'mesos',
  description: 'workers as tasks of a Mesos framework (v1 scheduler HTTP API)',
  configSchema: mesosSchema,
  options: mesosOptions,
  register(r) {
    r.backend('mesos', MesosBackend);
  },
});

export default mesosBackendPlugin;
export { mesosBackendPlugin };
