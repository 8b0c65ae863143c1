import { definePlugin } from '@ebbtide/core';
import { DaskSchedulerAdapter } from './DaskSchedulerAdapter.js';
import { type DaskSchedulerOptions, daskSchedulerOptions, daskSchedulerSchema } from './config.js';

export { DaskSchedulerAdapter } from './DaskSchedulerAdapter.js';
export { type DaskSchedulerOptions, daskSchedulerOptions, daskSchedulerSchema } from './config.js';
export { DaskComm, CLIENT_HANDSHAKE, type CallOptions, type DaskCommOptions } from './wire/DaskComm.js';
export { FrameReader, FramingError, MAX_MESSAGE_BYTES, encodeFrames, splitFrames } from './wire/frames.js';
export { decodeMessage, encodeMessage, reviveDask } from './wire/daskMsgpack.js';
export { type DaskKey, keyFromId, keyId, prefixOfId, prefixOfKey } from './wire/daskKey.js';
export { type DaskAddress, DEFAULT_SCHEDULER_PORT, parseDaskAddress } from './wire/parseDaskAddress.js';
export { PollState, type RawPoll, readPoll } from './poll/readPoll.js';
export { IdentityPolicy, type PollSignals } from './poll/IdentityPolicy.js';
export { PollBackoff } from './poll/PollBackoff.js';
export { PollFingerprint } from './poll/PollFingerprint.js';
export { heartbeatInterval } from './poll/heartbeatInterval.js';
export { SnapshotBuilder } from './poll/SnapshotBuilder.js';
export { PrefixDurations } from './poll/PrefixDurations.js';
export { TaskStreamCursor } from './poll/TaskStreamCursor.js';
export { ProcessingAges } from './poll/ProcessingAges.js';
export { type ExecutingObservation, type WorkerInfosResult, workerInfos } from './poll/workerInfos.js';
export { type PendingCounts, countPending, pendingCandidates } from './poll/pendingTasks.js';
export {
  type DaskWorkerView,
  type PrefixStateCounts,
  type TaskStreamEntry,
  parseIdentity,
  parseNcores,
  parseProcessing,
  parseTaskStream,
  workerStatus,
} from './poll/parseReplies.js';
export { type RetireWorkersOptions, retireWorkers } from './retire/retireWorkers.js';
export { KEPT_REASON, type RetirementFacts, classifyRetirement } from './retire/classifyRetirement.js';

/**
 * The Dask scheduler adapter: `scheduler.type: dask` with `scheduler.address: tcp://HOST:PORT`.
 * Named `dask-scheduler` because the plugin named `dask` is Dask's heuristic.
 */
const daskSchedulerPlugin = definePlugin<DaskSchedulerOptions>({
  name: 'dask-scheduler',
  description: 'A real Dask scheduler (distributed 2022.12+) over its own TCP protocol',
  configSchema: daskSchedulerSchema,
  options: daskSchedulerOptions,
  register(r) {
    r.scheduler('dask', DaskSchedulerAdapter);
  },
});

export default daskSchedulerPlugin;
export { daskSchedulerPlugin };
