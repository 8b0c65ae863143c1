import 'reflect-metadata';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { EbbtideConfig } from '../config/EbbtideConfig.js';
import { coreSchema } from '../config/coreSchema.js';
import { poolsSchema } from '../pools/poolsSchema.js';
import { type ConfigSources, type LoadedConfig, loadConfig, readPluginList } from '../config/loadConfig.js';
import { EbbtideError, isEbbtideError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/Logger.js';
import { CONFIG, LOGGER, NAME_ARGUMENT, PLUGIN_OPTIONS, RX_SCHEDULER } from '../tokens.js';
import { type Constructor, type EbbtidePlugin, type Factory, type KindContracts, type PluginContext, type PluginKind, SELECTING_KEY, isFactory } from './EbbtidePlugin.js';
import { constructImplementation } from './constructImplementation.js';
import { withDefaults } from '../config/withDefaults.js';
import { PluginRegistry } from './PluginRegistry.js';
import { guardPlugin } from './guardPlugin.js';
import { loadPluginModule } from './loadPluginModule.js';

export interface KernelOptions {
  /** Plugins registered before any configured one (the CLI passes Dask's and the adapters). */
  builtins?: EbbtidePlugin[];
  sources?: ConfigSources;
  rxScheduler?: SchedulerLike;
  /** A logger, or a function making one from the validated config (to honour `log.level`). */
  logger?: Logger | ((config: EbbtideConfig) => Logger);
  /** Parent DI container; a child is created per kernel. */
  container?: DependencyContainer;
  /**
   * Defaults chosen by the composition root, below every other source: which implementation
   * fills each role (`{ heuristic: 'dask', scheduler: { type: 'embedded' } }`) and any other
   * key's default. The core names no implementation itself.
   */
  defaults?: Record<string, unknown>;
  /**
   * Ready-made instances for roles: `resolve(kind)` returns them and the configured selection
   * of that kind is not looked up (the simulator hands in its simulated scheduler and backend).
   */
  instances?: Partial<KindContracts>;
}

/**
 * The microkernel: registers built-in plugins, loads the configured ones, validates the merged
 * configuration and resolves the implementation selected for each role.
 *
 * @example
 * ```ts
 * const kernel = await Kernel.create({ builtins: [daskPlugin], sources: { file: 'ebbtide.yaml' } });
 * const heuristic = kernel.resolve('heuristic');
 * ```
 */
export class Kernel {
  readonly container: DependencyContainer;
  private readonly optionsCache = new Map<EbbtidePlugin, unknown>();

  private constructor(
    readonly registry: PluginRegistry,
    readonly loaded: LoadedConfig,
    readonly logger: Logger,
    readonly rxScheduler: SchedulerLike,
    parent: DependencyContainer,
    private readonly instances: Partial<KindContracts> = {},
  ) {
    this.container = parent.createChildContainer();
    this.container.register(RX_SCHEDULER, { useValue: rxScheduler });
    this.container.register(LOGGER, { useValue: logger });
    this.container.register(CONFIG, { useValue: loaded.config });
  }

  get config(): EbbtideConfig {
    return this.loaded.config;
  }

  /**
   * @throws EbbtideError with a `PLUGIN_*` or `CONFIG_*` code on the first problem found.
   */
  static async create(options: KernelOptions = {}): Promise<Kernel> {
    const registry = new PluginRegistry();
    for (const p of options.builtins ?? []) registry.add(p, 'built-in');

    const sources = options.sources ?? {};
    const { plugins, baseDir, fileValues } = readPluginList(sources);
    if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string')) {
      throw new EbbtideError('CONFIG_INVALID', `plugins: expected a list of module names or paths, got ${JSON.stringify(plugins)}`, {
        key: 'plugins',
      });
    }
    for (const spec of plugins as string[]) {
      const plugin = await loadPluginModule(spec, baseDir);
      registry.add(plugin, spec);
    }

    const sections = withDefaults(
      [
        { owner: 'core', schema: coreSchema },
        { owner: 'core', schema: poolsSchema },
        ...registry.plugins.filter((p) => p.configSchema).map((p) => ({ owner: p.name, schema: p.configSchema! })),
      ],
      options.defaults ?? {},
    );
    const loaded = loadConfig(sections, sources, fileValues);
    const logger = typeof options.logger === 'function' ? options.logger(loaded.config) : (options.logger ?? silentLogger);
    const kernel = new Kernel(registry, loaded, logger, options.rxScheduler ?? asyncScheduler, options.container ?? rootContainer, options.instances);
    kernel.checkSelections(['heuristic', 'workersToClose', 'workerKey']);
    return kernel;
  }

  /** Fails fast if a selected name is not registered (roles given as instances need none). */
  checkSelections(kinds: readonly PluginKind[]): void {
    for (const kind of kinds) if (!this.instances[kind]) this.registry.lookup(kind, this.selected(kind));
  }

  /** The configured name for a kind (`config.heuristic`, `config.backend.type`, ...). */
  selected(kind: PluginKind): string {
    const path = SELECTING_KEY[kind].split('.');
    let v: unknown = this.config;
    for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
    // A kind whose key no loaded schema declares (an embedding program without it) selects nothing.
    return v === undefined ? '' : String(v);
  }

  /**
   * The options a plugin derives from the config (computed once), or from another config given
   * here (a pool's, with its own `backend` section: computed each time).
   */
  pluginOptions(plugin: EbbtidePlugin, config?: EbbtideConfig): unknown {
    if (config || !this.optionsCache.has(plugin)) {
      let value: unknown = {};
      if (plugin.options) {
        try {
          value = plugin.options(config ?? this.config);
        } catch (e) {
          // A plugin rejecting a config value is a configuration error, not a plugin failure.
          if (isEbbtideError(e) && e.code.startsWith('CONFIG_')) throw e;
          throw new EbbtideError('PLUGIN_ERROR', `plugin "${plugin.name}" failed in options: ${e instanceof Error ? e.message : String(e)}`, {
            plugin: plugin.name,
            cause: e,
            data: { method: 'options' },
          });
        }
      }
      if (config) return value;
      this.optionsCache.set(plugin, value);
    }
    return this.optionsCache.get(plugin);
  }

  /** What a factory gets, and what the well-known tokens resolve to, for one plugin. */
  contextFor(plugin: EbbtidePlugin, argument = '', config?: EbbtideConfig, fields: Record<string, unknown> = {}): PluginContext {
    return {
      options: this.pluginOptions(plugin, config),
      logger: this.logger.child({ plugin: plugin.name, ...fields }),
      rxScheduler: this.rxScheduler,
      config: config ?? this.config,
      argument,
    };
  }

  /**
   * A new instance of the implementation selected for `kind` (or named by `name`): a factory is
   * called with its plugin's context; a class is constructed with its dependencies by token —
   * through the host's DI container, or, for a class decorated by another copy of tsyringe (a
   * plugin installed with its own dependencies), from its decorator metadata. Every method is
   * guarded so a throw becomes `PLUGIN_ERROR`. A role given as an instance returns that instance.
   *
   * `within` builds it for another config than the kernel's (a worker pool's backend: the pool's
   * `backend` section and cluster name): its options, `ctx.config` and `CONFIG` come from that
   * config, and its logger gets `fields`.
   */
  resolve<K extends PluginKind>(kind: K, name?: string, within?: { config: EbbtideConfig; fields?: Record<string, unknown> }): KindContracts[K] {
    const given = this.instances[kind];
    if (given && name === undefined) return given as KindContracts[K];
    const { registration, argument } = this.registry.lookup(kind, name ?? this.selected(kind));
    const plugin = registration.plugin;
    const ctx = this.contextFor(plugin, argument ?? '', within?.config, within?.fields);
    let instance: KindContracts[K];
    try {
      if (isFactory(registration.impl)) {
        instance = (registration.impl as Factory<KindContracts[K]>)(ctx);
      } else {
        const child = this.container.createChildContainer();
        child.register(PLUGIN_OPTIONS, { useValue: ctx.options });
        child.register(LOGGER, { useValue: ctx.logger });
        child.register(NAME_ARGUMENT, { useValue: ctx.argument });
        if (within) child.register(CONFIG, { useValue: ctx.config });
        instance = constructImplementation(registration.impl as Constructor<KindContracts[K]>, ctx, child);
      }
    } catch (e) {
      if (isEbbtideError(e)) throw e;
      throw new EbbtideError('PLUGIN_ERROR', `plugin "${plugin.name}" failed to construct ${kind} "${name ?? this.selected(kind)}": ${e instanceof Error ? e.message : String(e)}`, {
        plugin: plugin.name,
        cause: e,
        data: { method: 'constructor' },
      });
    }
    if (instance === null || typeof instance !== 'object') {
      throw new EbbtideError('PLUGIN_INVALID', `plugin "${plugin.name}": the ${kind} "${registration.name}" factory returned ${instance === null ? 'null' : typeof instance}, not an object`, {
        plugin: plugin.name,
      });
    }
    return guardPlugin(instance as object, plugin.name) as KindContracts[K];
  }
}
