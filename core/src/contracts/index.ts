export type { WorkerInfo, WorkerStatus } from './WorkerInfo.js';
export { WORKER_STATUSES, isWorkerBusy, workerTaskCount } from './WorkerInfo.js';
export type { TaskPrefixInfo } from './TaskPrefixInfo.js';
export type { ResourceTasks, SchedulerSnapshot, SnapshotFile, SnapshotTotals } from './SchedulerSnapshot.js';
export type { AllocationRequest, AllocationResult, PoolAllocator, PoolCapacityLimit, PoolShare, PoolView } from './PoolAllocator.js';
export type { Explanation, HeuristicContext, HeuristicResult, ScalingHeuristic } from './ScalingHeuristic.js';
export type { WorkerKey } from './WorkerKey.js';
export type { WorkersToClose, WorkersToCloseQuery } from './WorkersToClose.js';
export type { ClosingGroup, ClosingOrder, WorkersToCloseView } from './WorkersToCloseView.js';
export type {
  ConnectionEvent,
  SchedulerEvent,
  SnapshotEvent,
  TaskExecutingEvent,
  TaskSecededEvent,
  TaskState,
  TaskTransitionEvent,
  WorkerAddedEvent,
  WorkerRemovedEvent,
  WorkerUpdatedEvent,
} from './SchedulerEvent.js';
export type { RetireOutcome, RetireResult, SchedulerAdapter } from './SchedulerAdapter.js';
export type { AdoptOptions, BackendWorkerPhase, BackendWorkerStatus, CloseOptions, ResourceBackend, StopOptions, WorkerSpec } from './ResourceBackend.js';
