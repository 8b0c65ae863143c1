import { EbbtideError, isEbbtideError } from '../errors.js';
import {
  type EbbtidePlugin,
  type Implementation,
  PLUGIN_API_VERSION,
  type KindContracts,
  PLUGIN_KINDS,
  type PluginKind,
  type PluginRegistrar,
  type RegisterOptions,
  SELECTING_KEY,
} from './EbbtidePlugin.js';

export interface Registration<K extends PluginKind = PluginKind> {
  kind: K;
  name: string;
  plugin: EbbtidePlugin;
  /** A class or a factory (see `isFactory`). */
  impl: Implementation<KindContracts[K]>;
  parameter?: string;
}

const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Every registered implementation by kind and name, and the plugins that registered them. */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, Registration>>(PLUGIN_KINDS.map((k) => [k, new Map()]));
  private readonly pluginList: EbbtidePlugin[] = [];
  private readonly sourceOf = new Map<EbbtidePlugin, string>();

  get plugins(): readonly EbbtidePlugin[] {
    return this.pluginList;
  }

  /** Where a plugin came from: `built-in`, a package name or a path. */
  source(plugin: EbbtidePlugin): string {
    return this.sourceOf.get(plugin) ?? 'built-in';
  }

  /**
   * Runs the plugin's `register`.
   * @throws EbbtideError `PLUGIN_DUPLICATE_NAME`, `PLUGIN_INVALID` (bad implementation name),
   *   `PLUGIN_ERROR` (register threw).
   */
  add(plugin: EbbtidePlugin, source = 'built-in'): void {
    const api = plugin.apiVersion ?? 1;
    if (api !== PLUGIN_API_VERSION) {
      throw new EbbtideError(
        'PLUGIN_INVALID',
        `plugin "${plugin.name}" from ${source} was built for ebbtide plugin API ${api}; this ebbtide speaks plugin API ${PLUGIN_API_VERSION}`,
        {
          plugin: plugin.name,
          key: 'plugins',
          hint:
            api > PLUGIN_API_VERSION
              ? 'upgrade ebbtide, or install a version of the plugin built for this ebbtide'
              : 'upgrade the plugin: its @ebbtide/core is older than this ebbtide supports',
        },
      );
    }
    const clash = this.pluginList.find((p) => p.name === plugin.name);
    if (clash) {
      throw new EbbtideError(
        'PLUGIN_DUPLICATE_NAME',
        `plugin "${plugin.name}" from ${source} has the same name as the plugin from ${this.source(clash)}`,
        { plugin: plugin.name, key: 'plugins', hint: 'remove one of them from `plugins`, or rename one' },
      );
    }
    const pending: Registration[] = [];
    const add = <K extends PluginKind>(kind: K, name: string, impl: Implementation<KindContracts[K]>, options?: RegisterOptions) => {
      if (!NAME_RE.test(name)) {
        throw new EbbtideError('PLUGIN_INVALID', `plugin "${plugin.name}" registers ${kind} "${name}": names must be kebab-case (a-z, 0-9, -)`, {
          plugin: plugin.name,
        });
      }
      if (typeof impl !== 'function') {
        throw new EbbtideError('PLUGIN_INVALID', `plugin "${plugin.name}" registers ${kind} "${name}" without a class or a factory`, { plugin: plugin.name });
      }
      const existing = this.byKind.get(kind)!.get(name) ?? pending.find((r) => r.kind === kind && r.name === name);
      if (existing) {
        throw new EbbtideError(
          'PLUGIN_DUPLICATE_NAME',
          `plugin "${plugin.name}" registers ${kind} "${name}", which plugin "${existing.plugin.name}" already registers`,
          { plugin: plugin.name },
        );
      }
      pending.push({ kind, name, plugin, impl: impl as Implementation<KindContracts[PluginKind]>, ...(options?.parameter ? { parameter: options.parameter } : {}) });
    };
    const registrar: PluginRegistrar = {
      heuristic: (n, c) => add('heuristic', n, c),
      workersToClose: (n, c) => add('workersToClose', n, c),
      workerKey: (n, c, o) => add('workerKey', n, c, o),
      scheduler: (n, c) => add('scheduler', n, c),
      backend: (n, c) => add('backend', n, c),
      allocation: (n, c) => add('allocation', n, c),
    };
    try {
      plugin.register(registrar);
    } catch (e) {
      // The registrar's own PLUGIN_* errors pass through; anything else is the plugin's fault.
      if (isEbbtideError(e) && e.code.startsWith('PLUGIN_')) throw e;
      throw new EbbtideError('PLUGIN_ERROR', `plugin "${plugin.name}" failed in register: ${e instanceof Error ? e.message : String(e)}`, {
        plugin: plugin.name,
        cause: e,
        data: { method: 'register' },
      });
    }
    this.pluginList.push(plugin);
    this.sourceOf.set(plugin, source);
    for (const r of pending) this.byKind.get(r.kind)!.set(r.name, r);
  }

  /** Registrations of one kind, in registration order. */
  list<K extends PluginKind>(kind: K): Registration<K>[] {
    return [...this.byKind.get(kind)!.values()] as Registration<K>[];
  }

  /** Display names of one kind (`label:<name>` for parameterised ones). */
  names(kind: PluginKind): string[] {
    return this.list(kind).map((r) => (r.parameter ? `${r.name}:<${r.parameter}>` : r.name));
  }

  /**
   * The registration selected by `selected` (e.g. `label:app`), with its argument.
   * @throws EbbtideError `CONFIG_UNKNOWN_NAME` naming the config key and the registered names.
   */
  lookup<K extends PluginKind>(kind: K, selected: string): { registration: Registration<K>; argument?: string } {
    const colon = selected.indexOf(':');
    const name = colon >= 0 ? selected.slice(0, colon) : selected;
    const argument = colon >= 0 ? selected.slice(colon + 1) : undefined;
    const registration = this.byKind.get(kind)!.get(name) as Registration<K> | undefined;
    const key = SELECTING_KEY[kind];
    if (selected.trim() === '') {
      const known = this.names(kind);
      throw new EbbtideError('CONFIG_INVALID', `${key}: no ${kind} selected; registered: ${known.length ? known.join(', ') : '(none)'}`, {
        key,
        hint: 'set it in the config; the ebbtide command selects its built-in defaults, a program embedding the core must choose',
      });
    }
    if (!registration) {
      const known = this.names(kind);
      throw new EbbtideError(
        'CONFIG_UNKNOWN_NAME',
        `${key}: unknown ${kind} "${selected}"; registered: ${known.length ? known.join(', ') : '(none)'}`,
        { key, hint: 'add the plugin that provides it to `plugins`, or pick a registered name (`ebbtide plugins`)' },
      );
    }
    if (registration.parameter && !argument) {
      throw new EbbtideError('CONFIG_UNKNOWN_NAME', `${key}: "${selected}" needs an argument: ${name}:<${registration.parameter}>`, { key });
    }
    if (!registration.parameter && argument !== undefined) {
      throw new EbbtideError('CONFIG_UNKNOWN_NAME', `${key}: ${kind} "${name}" takes no argument, got "${selected}"`, { key });
    }
    return { registration, ...(argument !== undefined ? { argument } : {}) };
  }
}
