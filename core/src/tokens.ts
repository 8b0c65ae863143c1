import type { InjectionToken } from 'tsyringe';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from './logging/Logger.js';
import type { EbbtideConfig } from './config/EbbtideConfig.js';
import type { ResourceBackend } from './contracts/ResourceBackend.js';
import type { ScalingHeuristic } from './contracts/ScalingHeuristic.js';
import type { SchedulerAdapter } from './contracts/SchedulerAdapter.js';
import type { WorkerKey } from './contracts/WorkerKey.js';
import type { WorkersToClose } from './contracts/WorkersToClose.js';

/** The RxJS scheduler every timer uses: `asyncScheduler` in production, virtual time in tests. */
export const RX_SCHEDULER: InjectionToken<SchedulerLike> = Symbol.for('ebbtide.RxScheduler');
/** Structured logger; each plugin receives a child bound to `{ plugin }`. */
export const LOGGER: InjectionToken<Logger> = Symbol.for('ebbtide.Logger');
/** The whole validated configuration (plain object). */
export const CONFIG: InjectionToken<EbbtideConfig> = Symbol.for('ebbtide.Config');
/** Typed options a plugin derived from its config section (its `options(config)` result). */
export const PLUGIN_OPTIONS: InjectionToken<unknown> = Symbol.for('ebbtide.PluginOptions');
/** The argument of a parameterised name, e.g. `app` in `workerKey: label:app`. */
export const NAME_ARGUMENT: InjectionToken<string> = Symbol.for('ebbtide.NameArgument');

export const SCALING_HEURISTIC: InjectionToken<ScalingHeuristic> = Symbol.for('ebbtide.ScalingHeuristic');
export const WORKERS_TO_CLOSE: InjectionToken<WorkersToClose> = Symbol.for('ebbtide.WorkersToClose');
export const WORKER_KEY: InjectionToken<WorkerKey> = Symbol.for('ebbtide.WorkerKey');
export const SCHEDULER_ADAPTER: InjectionToken<SchedulerAdapter> = Symbol.for('ebbtide.SchedulerAdapter');
export const RESOURCE_BACKEND: InjectionToken<ResourceBackend> = Symbol.for('ebbtide.ResourceBackend');
