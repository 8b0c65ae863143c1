import 'reflect-metadata';
export { FakeBackend, FakeScheduler, advance, flushMicrotasks, makePrefix, makeSnapshot, makeWorker } from './fakes.js';
export { noopPlugin, NoopHeuristic, NoopWorkersToClose } from './noopPlugin.js';
export { type BackendHarness, describeResourceBackend } from './describeResourceBackend.js';
