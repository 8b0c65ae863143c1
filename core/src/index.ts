import 'reflect-metadata';

// Everything a plugin author uses (contracts, definePlugin, tokens, errors, config types and
// parsers) is the sdk; the rest below is the host: kernel, loop, cluster, store, config loading.
export * from './sdk.js';
export type { DecisionInputs, DecisionOutcome, DecisionRecord, GuardEffect, PoolAllocation, ProposedWorker, ScalingMode } from './DecisionRecord.js';
export type { Recommendation } from './decide/Recommendation.js';
export { clampTarget, type ClampResult } from './decide/clampTarget.js';
export { recommend, type RecommendInput, type RecommendOutput } from './decide/recommend.js';
export { decideTick, type DecideTickInput } from './decide/decideTick.js';
export { decisionRule } from './decide/decisionRule.js';
export { SchedulerStateStore, type SchedulerStateStoreOptions, type StoreCounts } from './state/SchedulerStateStore.js';
export { Cluster, type AdoptionResult, type CapacityLimit, type ClusterOptions, type ScaleResult } from './cluster/Cluster.js';
export { Adaptive, type AdaptBounds, type AdaptiveDeps, type AdaptiveOptions, type AdaptiveState, type ScalingState } from './loop/Adaptive.js';
export { exitCodeFor, pluginError } from './errors.js';
export * from './tokens.js';
export {
  type LogRecord,
  LOG_LEVELS,
  MemoryLogger,
  SinkLogger,
  createStderrLogger,
  formatJson,
  formatPretty,
  silentLogger,
} from './logging/Logger.js';
export { coreSchema } from './config/coreSchema.js';
export { envNameFor, schemaLeaves } from './config/schema.js';
export {
  type ConfigSource,
  type ConfigSources,
  type LoadedConfig,
  type OwnedSchema,
  defaultConfig,
  loadConfig,
  mergeSchemas,
  readConfigFile,
  readPluginList,
  suggestKey,
} from './config/loadConfig.js';
export { FORMATS, registerFormats } from './config/formats.js';
export { PluginRegistry, type Registration } from './plugins/PluginRegistry.js';
export { loadPluginModule, asPlugin } from './plugins/loadPluginModule.js';
export { guardPlugin } from './plugins/guardPlugin.js';
export { Kernel, type KernelOptions } from './plugins/Kernel.js';
export { validateSnapshot } from './state/validateSnapshot.js';
export { Autoscaler, type AutoscalerParts, type ShutdownOptions, type ShutdownSummary } from './runtime/Autoscaler.js';
export type { ClusterLike } from './cluster/ClusterLike.js';
export { PoolSet, type PoolSetOptions, type PoolTickContext, defaultPool } from './pools/PoolSet.js';
export { PoolBackends, type PoolBackend } from './pools/PoolBackends.js';
export { DEFAULT_POOL, type PoolConfig } from './pools/PoolConfig.js';
export { type PoolSettings, poolSettings } from './pools/poolSettings.js';
export { type BuiltCluster, type GivenBackends, buildCluster, checkPoolSelections, poolBackendConfig } from './pools/buildCluster.js';
export { type DecidePoolsInput, type DecidePoolsOutput, type PoolTick, decidePools } from './pools/decidePools.js';
export {
  type BlindRule,
  type DirectionRules,
  EMPTY_GUARD_STATE,
  type GuardRails,
  type GuardState,
  NO_GUARD_RAILS,
  type ScalingPolicy,
  type ScheduleEntry,
  type SelectPolicy,
  type TimedValue,
  hasGuardRails,
} from './pools/GuardRails.js';
export { type GuardInput, type GuardOutput, applyGuards, recordChange } from './pools/applyGuards.js';
export { stabilize } from './pools/stabilize.js';
export { describePolicy, rateLimit } from './pools/ratePolicies.js';
export { activeUntil, parseCron, scheduledBounds } from './pools/schedule.js';
export { type ResourceDemandOptions, resourceDemand } from './pools/resourceDemand.js';
export { poolWorkerEnv } from './pools/poolWorkerEnv.js';
export { poolsSchema } from './pools/poolsSchema.js';
export { DecisionHistory, type HistoryEntry } from './runtime/DecisionHistory.js';
export { ClusterView, type GoneWorker, type WorkerRow, type WorkerState } from './runtime/ClusterView.js';
export { RECORDING_VERSION, type RecordingHeader, type RecordingLine, record } from './runtime/Recorder.js';
export { retireEach, type RetireEachHooks } from './util/retireEach.js';
export { SchedulingModel, type ReplicaResult, type SchedulingModelOptions } from './scheduling/SchedulingModel.js';
export type { ModelTask, ModelTaskStatus, ModelWorker, ModelWorkerIdentity } from './scheduling/records.js';
export { pickRecipient, pickWorker } from './scheduling/placement.js';
export { KEPT_COPY_FAILED, KEPT_NO_RECIPIENT, type RetirementStep, retirementStep } from './scheduling/retirementStep.js';
