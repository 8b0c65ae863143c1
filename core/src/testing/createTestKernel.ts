import type { SchedulerLike } from 'rxjs';
import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import type { Logger } from '../logging/Logger.js';
import { type EbbtidePlugin, type KindContracts, definePlugin } from '../plugins/EbbtidePlugin.js';
import { Kernel } from '../plugins/Kernel.js';
import { FakeBackend, FakeScheduler } from './fakes.js';
import { NoopHeuristic, NoopWorkersToClose } from './noopPlugin.js';

/**
 * Working stand-ins for every role, so a test kernel runs whatever one plugin provides:
 * heuristic and workers-to-close `noop`, worker key `each` (every worker its own group),
 * scheduler `fake` and backend `fake` (in-memory, see `FakeScheduler` and `FakeBackend`).
 */
export const testDefaultsPlugin = definePlugin({
  name: 'test-defaults',
  description: 'stand-ins for every role in tests',
  register(r) {
    r.heuristic('noop', () => new NoopHeuristic());
    r.workersToClose('noop', () => new NoopWorkersToClose());
    r.workerKey('each', () => ({ key: (w: WorkerInfo) => w.name }));
    r.scheduler('fake', () => new FakeScheduler());
    r.backend('fake', () => new FakeBackend());
  },
});

export interface TestKernelOptions {
  /** The plugins under test (objects made with definePlugin), registered after the stand-ins. */
  plugins?: EbbtidePlugin[];
  /** Config values, nested as in a config file (`{ heuristic: 'mine', mine: { knob: 2 } }`). */
  config?: Record<string, unknown>;
  /** Ready-made instances for roles. */
  instances?: Partial<KindContracts>;
  rxScheduler?: SchedulerLike;
  logger?: Logger;
}

/**
 * A kernel for a plugin's tests: the stand-ins of `testDefaultsPlugin` fill every role the
 * config does not select, so `kernel.resolve('heuristic')` gives your heuristic built exactly
 * as ebbtide would build it (options from its config section, logger, scheduler), and
 * `Autoscaler.start(kernel)` runs the whole loop against the fakes. No environment variables
 * or files are read.
 *
 * @example
 * ```ts
 * const kernel = await createTestKernel({ plugins: [myPlugin], config: { heuristic: 'per-n', perN: { perWorker: 5 } } });
 * expect(kernel.resolve('heuristic').target(snapshot, { minimum: 0, maximum: 10 }).target).to.equal(2);
 * ```
 */
export function createTestKernel(options: TestKernelOptions = {}): Promise<Kernel> {
  return Kernel.create({
    builtins: [testDefaultsPlugin, ...(options.plugins ?? [])],
    defaults: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'each', scheduler: { type: 'fake' }, backend: { type: 'fake' } },
    sources: { env: {}, ...(options.config ? { preset: options.config } : {}) },
    ...(options.instances ? { instances: options.instances } : {}),
    ...(options.rxScheduler ? { rxScheduler: options.rxScheduler } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
