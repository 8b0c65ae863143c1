import { simulatorPlugin } from './plugin/simulatorPlugin.js';

export { type Trace, type TraceTask, validateTrace } from './trace/Trace.js';
export { type GenerateTraceOptions, type TraceProfile, TRACE_PROFILES, generateTrace } from './trace/generateTrace.js';
export { traceFromRecording } from './trace/traceFromRecording.js';
export { readTrace } from './trace/readTrace.js';
export { Random } from './random/Random.js';
export { type StartupDelay, drawStartupDelay, formatStartupDelay, parseStartupDelay } from './sim/StartupDelay.js';
export { type SchedulerStats, SimulatedScheduler, type SimulatedSchedulerOptions } from './sim/SimulatedScheduler.js';
export { SimulatedBackend, type SimulatedBackendOptions } from './sim/SimulatedBackend.js';
export { VirtualClock } from './sim/VirtualClock.js';
export { type SimulatedPoolOptions, type SimulatorOptions, simulatorOptions, simulatorSchema } from './config.js';
export { type PoolMetrics, type SimulatedPoolSettings, poolSeed } from './simulatedPools.js';
export { type SeriesPoint, SeriesRecorder, waitStats } from './metrics.js';
export {
  type SimulateOptions,
  type SimulationEnd,
  type SimulationMetrics,
  type SimulationResult,
  type SimulatorOverrides,
  simulate,
  staticCluster,
} from './simulate.js';
export { type SmallestStaticOptions, type SmallestStaticResult, smallestStaticWithin } from './smallestStaticWithin.js';
export { simulatorPlugin };
export { StaticBaselineHeuristic } from './plugin/StaticBaselineHeuristic.js';

export default simulatorPlugin;
