export { MesosMaster, type CallRecord, type MesosFaults, type MesosMasterOptions, type SentEvent } from './MesosMaster.js';
export type { Agent, AgentSpec, Framework, Offer, Task } from './model.js';
export { recordio } from './recordio.js';
export type { Call, TaskState, TaskStatus } from './types.js';
