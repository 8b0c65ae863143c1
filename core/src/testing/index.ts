import 'reflect-metadata';
export { FakeBackend, FakeResourceManager, FakeScheduler, advance, flushMicrotasks, makePrefix, makeSnapshot, makeWorker } from './fakes.js';
export { noopPlugin, NoopHeuristic, NoopWorkersToClose } from './noopPlugin.js';
export { type BackendHarness, describeResourceBackend } from './describeResourceBackend.js';
export { type SchedulerHarness, describeSchedulerAdapter } from './describeSchedulerAdapter.js';
export { type DecisionSuiteOptions, describeHeuristic, describeWorkerKey, describeWorkersToClose } from './describeDecisionPlugins.js';
export { type TestKernelOptions, createTestKernel, testDefaultsPlugin } from './createTestKernel.js';
export { randomSnapshot, sampleSnapshots } from './sampleSnapshots.js';
export { frozenCopy, withoutClockOrRandomness } from './purity.js';
