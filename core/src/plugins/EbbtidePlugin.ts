import type { EbbtideConfig } from '../config/EbbtideConfig.js';
import type { ConfigSchemaSection } from '../config/schema.js';
import type { ResourceBackend } from '../contracts/ResourceBackend.js';
import type { ScalingHeuristic } from '../contracts/ScalingHeuristic.js';
import type { SchedulerAdapter } from '../contracts/SchedulerAdapter.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { WorkersToClose } from '../contracts/WorkersToClose.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T> = new (...args: any[]) => T;

/** The roles a plugin can fill; one implementation per role is selected by configuration. */
export const PLUGIN_KINDS = ['heuristic', 'workersToClose', 'workerKey', 'scheduler', 'backend'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

export interface KindContracts {
  heuristic: ScalingHeuristic;
  workersToClose: WorkersToClose;
  workerKey: WorkerKey;
  scheduler: SchedulerAdapter;
  backend: ResourceBackend;
}

/** The config key that selects the implementation of each kind. */
export const SELECTING_KEY: Record<PluginKind, string> = {
  heuristic: 'heuristic',
  workersToClose: 'workersToClose',
  workerKey: 'workerKey',
  scheduler: 'scheduler.type',
  backend: 'backend.type',
};

export interface RegisterOptions {
  /**
   * The name takes an argument after a colon (`label:<name>`); the argument is injected as
   * `NAME_ARGUMENT`. Without this flag a colon in the selected name is an error.
   */
  parameter?: string;
}

/** What `register` receives: one method per kind, each adding a named `@injectable` class. */
export interface PluginRegistrar {
  heuristic(name: string, impl: Constructor<ScalingHeuristic>): void;
  workersToClose(name: string, impl: Constructor<WorkersToClose>): void;
  workerKey(name: string, impl: Constructor<WorkerKey>, options?: RegisterOptions): void;
  scheduler(name: string, impl: Constructor<SchedulerAdapter>): void;
  backend(name: string, impl: Constructor<ResourceBackend>): void;
}

/**
 * An ebbtide plugin: a plain object, the default export of its module.
 *
 * `register` only registers: no I/O, no timers. Implementations take what they need by token
 * (`PLUGIN_OPTIONS`, `LOGGER`, `RX_SCHEDULER`, `CONFIG`).
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   name: 'fixed',
 *   configSchema: { fixed: { workers: { doc: 'Workers wanted', format: 'whole-number', default: 2 } } },
 *   options: (config) => ({ workers: (config.fixed as { workers: number }).workers }),
 *   register(r) { r.heuristic('fixed', FixedHeuristic); },
 * });
 * ```
 */
export interface EbbtidePlugin<Options = unknown> {
  /** Short kebab-case name; prefixes every log line and error the plugin causes. */
  name: string;
  version?: string;
  description?: string;
  /** Convict schema section under a namespace the plugin owns; merged before validation. */
  configSchema?: ConfigSchemaSection;
  /** Typed options derived from the validated config, injected as `PLUGIN_OPTIONS`. */
  options?(config: EbbtideConfig): Options;
  register(registrar: PluginRegistrar): void;
}

/** Identity function that gives plugin authors the types. */
export function definePlugin<Options>(plugin: EbbtidePlugin<Options>): EbbtidePlugin<Options> {
  return plugin;
}
