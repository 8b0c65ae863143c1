import type { SchedulerLike } from 'rxjs';
import type { EbbtideConfig } from '../config/EbbtideConfig.js';
import type { Logger } from '../logging/Logger.js';
import type { ConfigSchemaSection } from '../config/schema.js';
import type { ResourceBackend } from '../contracts/ResourceBackend.js';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';
import type { PoolAllocator } from '../contracts/PoolAllocator.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T> = new (...args: any[]) => T;

/**
 * The version of the plugin API this copy of the SDK speaks. `definePlugin` stamps it on every
 * plugin; the host refuses a plugin of another version with a clear error, so a plugin built
 * against an incompatible copy of `@ebbtide/core` fails at load, not at run time.
 */
export const PLUGIN_API_VERSION = 1;

/** What a factory receives: everything a plugin's implementation may need, by value. */
export interface PluginContext<Options = unknown> {
  /** What the plugin's `options(config)` returned (`{}` without one). */
  options: Options;
  /** A logger bound to `{ plugin: <name> }`. */
  logger: Logger;
  /** The scheduler every timer must use (virtual time in tests and the simulator). */
  rxScheduler: SchedulerLike;
  /** The whole validated configuration. */
  config: EbbtideConfig;
  /** For a parameterised name (`label:app`), the part after the colon; `''` otherwise. */
  argument: string;
}

/**
 * Makes one implementation. Factories need no decorators and no shared DI container, so a plugin
 * works wherever npm installed it, with its own copies of `@ebbtide/core`, tsyringe and rxjs.
 */
export type Factory<T> = (ctx: PluginContext) => T;

/** A class (constructed with its `@inject` tokens) or a factory. */
export type Implementation<T> = Constructor<T> | Factory<T>;

/** The roles a plugin can fill; one implementation per role is selected by configuration. */
export const PLUGIN_KINDS = ['heuristic', 'workersToClose', 'workerKey', 'scheduler', 'backend', 'allocation'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

export interface KindContracts {
  heuristic: ScalingHeuristic;
  workersToClose: WorkersToClose;
  workerKey: WorkerKey;
  scheduler: SchedulerAdapter;
  backend: ResourceBackend;
  /** Spreads the cluster's target over its pools (used only with `pools:`). */
  allocation: PoolAllocator;
}

/** The config key that selects the implementation of each kind. */
export const SELECTING_KEY: Record<PluginKind, string> = {
  heuristic: 'heuristic',
  workersToClose: 'workersToClose',
  workerKey: 'workerKey',
  scheduler: 'scheduler.type',
  backend: 'backend.type',
  allocation: 'allocation',
};

export interface RegisterOptions {
  /**
   * The name takes an argument after a colon (`label:<name>`); the argument is injected as
   * `NAME_ARGUMENT`. Without this flag a colon in the selected name is an error.
   */
  parameter?: string;
}

/**
 * What `register` receives: one method per kind, each adding a named implementation — a factory
 * `(ctx) => instance` (preferred: no decorators needed) or a class whose constructor takes its
 * dependencies by token (`@inject(PLUGIN_OPTIONS)`, ...).
 */
export interface PluginRegistrar {
  heuristic(name: string, impl: Implementation<ScalingHeuristic>): void;
  workersToClose(name: string, impl: Implementation<WorkersToClose>): void;
  workerKey(name: string, impl: Implementation<WorkerKey>, options?: RegisterOptions): void;
  scheduler(name: string, impl: Implementation<SchedulerAdapter>): void;
  backend(name: string, impl: Implementation<ResourceBackend>): void;
  /** An allocation of the cluster's target over pools (`allocation: <name>`). */
  allocation(name: string, impl: Implementation<PoolAllocator>): void;
}

/**
 * An ebbtide plugin: a plain object, the default export of its module.
 *
 * `register` only registers: no I/O, no timers. A factory gets what it needs as its argument
 * (`ctx.options`, `ctx.logger`, `ctx.rxScheduler`, `ctx.config`); a class takes it by token
 * (`PLUGIN_OPTIONS`, `LOGGER`, `RX_SCHEDULER`, `CONFIG`).
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   name: 'fixed',
 *   configSchema: { fixed: { workers: { doc: 'Workers wanted', format: 'whole-number', default: 2 } } },
 *   options: (config) => ({ workers: (config.fixed as { workers: number }).workers }),
 *   register(r) { r.heuristic('fixed', (ctx) => new FixedHeuristic(ctx.options)); },
 * });
 * ```
 */
export interface EbbtidePlugin<Options = unknown> {
  /** Short kebab-case name; prefixes every log line and error the plugin causes. */
  name: string;
  /** The plugin API it was built for (`definePlugin` sets it); absent means 1. */
  apiVersion?: number;
  version?: string;
  description?: string;
  /** Convict schema section under a namespace the plugin owns; merged before validation. */
  configSchema?: ConfigSchemaSection;
  /** Typed options derived from the validated config, injected as `PLUGIN_OPTIONS`. */
  options?(config: EbbtideConfig): Options;
  register(registrar: PluginRegistrar): void;
}

/** Gives plugin authors the types, and stamps the plugin API version this SDK speaks. */
export function definePlugin<Options>(plugin: EbbtidePlugin<Options>): EbbtidePlugin<Options> {
  return { apiVersion: PLUGIN_API_VERSION, ...plugin };
}

/**
 * Whether `impl` is a factory rather than a class: arrow functions and methods have no
 * prototype; classes (native or compiled) are told apart by their source or a prototype method.
 */
export function isFactory(impl: unknown): boolean {
  if (typeof impl !== 'function') return false;
  if (!('prototype' in impl) || impl.prototype === undefined) return true;
  if (/^class[\s{]/.test(Function.prototype.toString.call(impl))) return false;
  return Object.getOwnPropertyNames(impl.prototype).length <= 1;
}
