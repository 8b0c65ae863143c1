import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EbbtideError, describeError } from '../errors.js';
import type { EbbtidePlugin } from './EbbtidePlugin.js';
import { resolvePackageEntry } from './resolvePackage.js';

function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || spec.endsWith('.js') || spec.endsWith('.mjs');
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Whether a not-found error is about `spec` itself (not about one of its dependencies). */
function missingIsSpec(e: unknown, spec: string, resolved?: string): boolean {
  const msg = describeError(e);
  return msg.includes(`'${spec}'`) || (resolved !== undefined && msg.includes(resolved));
}

/**
 * Folders whose `node_modules` a globally installed plugin lives in: npm's global prefix
 * (`npm_config_prefix` / `NPM_CONFIG_PREFIX`, else the one next to this Node: `<prefix>/lib`),
 * and `NODE_PATH`. Computed, not asked of npm, so loading a plugin starts no process.
 */
function globalFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const prefixes = [env.npm_config_prefix, env.NPM_CONFIG_PREFIX, dirname(dirname(process.execPath))].filter((p): p is string => Boolean(p));
  const dirs = prefixes.map((p) => (process.platform === 'win32' ? p : join(p, 'lib')));
  for (const p of (env.NODE_PATH ?? '').split(delimiter).filter(Boolean)) dirs.push(dirname(p));
  return [...new Set(dirs)];
}

/** Checks that a module's export looks like a plugin; returns it. */
export function asPlugin(candidate: unknown, spec: string): EbbtidePlugin {
  const c = candidate as Partial<EbbtidePlugin> | undefined;
  if (!c || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.register !== 'function') {
    throw new EbbtideError(
      'PLUGIN_INVALID',
      `module ${spec} does not export a plugin: expected a default export { name, register } (use definePlugin from @ebbtide/core)`,
      { plugin: spec, key: 'plugins' },
    );
  }
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(c.name)) {
    throw new EbbtideError('PLUGIN_INVALID', `module ${spec} exports a plugin named "${c.name}": plugin names must be kebab-case`, {
      plugin: spec,
      key: 'plugins',
    });
  }
  if (c.configSchema !== undefined && (typeof c.configSchema !== 'object' || c.configSchema === null)) {
    throw new EbbtideError('PLUGIN_INVALID', `plugin "${c.name}" (${spec}) has a configSchema that is not an object`, { plugin: c.name });
  }
  return c as EbbtidePlugin;
}

/**
 * Imports a plugin module named in `plugins: [...]`.
 *
 * Resolution: a spec starting with `.` or `/` (or ending in `.js`) is a path relative to `baseDir`
 * (the config file's folder); anything else is an npm package name, resolved from `baseDir`'s
 * node_modules (and its parents'), then from npm's global prefix and `NODE_PATH`, then from
 * ebbtide's own. The plugin is the module's default export (or a
 * named `plugin` export).
 *
 * @throws EbbtideError `PLUGIN_NOT_FOUND` (nothing at that path / package not installed),
 *   `PLUGIN_LOAD_FAILED` (found, but importing it threw, e.g. a missing dependency),
 *   `PLUGIN_INVALID` (no plugin export).
 */
export async function loadPluginModule(spec: string, baseDir: string): Promise<EbbtidePlugin> {
  let target: string;
  if (isPathSpec(spec)) {
    const abs = resolvePath(baseDir, spec);
    if (!existsSync(abs)) {
      throw new EbbtideError('PLUGIN_NOT_FOUND', `plugin module ${spec} not found: no file at ${abs}`, {
        plugin: spec,
        key: 'plugins',
        hint: 'paths in `plugins` are relative to the config file',
      });
    }
    target = pathToFileURL(abs).href;
  } else {
    const entry = resolvePackageEntry(spec, baseDir) ?? globalFolders().map((dir) => resolvePackageEntry(spec, dir, false)).find(Boolean);
    if (entry) target = pathToFileURL(entry).href;
    else {
      try {
        target = pathToFileURL(createRequire(join(baseDir, 'noop.js')).resolve(spec)).href;
      } catch {
        target = spec;
      }
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (e) {
    if (isNotFound(e) && missingIsSpec(e, spec, target)) {
      throw new EbbtideError('PLUGIN_NOT_FOUND', `plugin package ${spec} is not installed`, {
        plugin: spec,
        key: 'plugins',
        hint: `npm install ${spec}`,
        cause: e,
      });
    }
    throw new EbbtideError('PLUGIN_LOAD_FAILED', `plugin module ${spec} was found but failed to load: ${describeError(e)}`, {
      plugin: spec,
      key: 'plugins',
      cause: e,
    });
  }
  return asPlugin(mod.default ?? mod.plugin, spec);
}
