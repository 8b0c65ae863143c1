import { fileURLToPath } from 'node:url';
import { definePlugin } from '@ebbtide/core';
import { EmbeddedSchedulerAdapter } from './EmbeddedSchedulerAdapter.js';
import { embeddedOptions, embeddedSchema } from './config.js';
import type { EmbeddedSchedulerOptions } from './scheduler/EmbeddedSchedulerOptions.js';

export { EmbeddedSchedulerAdapter } from './EmbeddedSchedulerAdapter.js';
export { EmbeddedScheduler, type EmbeddedSchedulerDeps } from './scheduler/EmbeddedScheduler.js';
export { DEFAULT_EMBEDDED_OPTIONS, type EmbeddedSchedulerOptions } from './scheduler/EmbeddedSchedulerOptions.js';
export { checkEmbeddedOptions, isLoopbackHost } from './scheduler/checkOptions.js';
export type { ConnectionStats } from './scheduler/ConnectionGate.js';
export { ByteBudget } from './protocol/ByteBudget.js';
export type { TaskStatus } from './scheduler/records.js';
export { Client, type ConnectOptions, type SubmitOptions } from './client/Client.js';
export { TaskError } from './client/TaskError.js';
export { embeddedOptions, embeddedSchema } from './config.js';
export { builtinTask, builtinTasksUrl, type BuiltinTaskName } from './tasks/builtinTask.js';
export { parseTaskRef, taskRef, type TaskRef } from './taskRef.js';
export { READY_LINE_PREFIX } from './worker/readyLine.js';
export { WorkerRuntime, type WorkerRuntimeOptions, type WorkerStop } from './worker/WorkerRuntime.js';
export { parseWorkerArgs, WORKER_USAGE } from './worker/parseWorkerArgs.js';
export { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, decodeBody, encodeFrame } from './protocol/frames.js';
export { formatAddress, parseAddress, type TcpAddress } from './protocol/address.js';
export type { Message, Op, WireError } from './protocol/messages.js';
export { parseResources, resourcesProblem, type Resources } from './protocol/resources.js';

/** Absolute path of the `ebbtide-worker` script, for backends that spawn `node <workerBin>`. */
export const workerBin: string = fileURLToPath(new URL('../../bin/ebbtide-worker.js', import.meta.url));

/** `scheduler.type: embedded`: ebbtide's own scheduler, hosted in-process. */
const embeddedPlugin = definePlugin<EmbeddedSchedulerOptions>({
  name: 'embedded',
  description: 'Built-in task scheduler hosted in-process, with the ebbtide-worker runtime and a client',
  configSchema: embeddedSchema,
  options: embeddedOptions,
  register(r) {
    r.scheduler('embedded', EmbeddedSchedulerAdapter);
  },
});

export default embeddedPlugin;
export { embeddedPlugin };
