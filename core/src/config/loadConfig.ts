import { readFileSync } from 'node:fs';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import convict from 'convict';
import YAML from 'yaml';
import { EbbtideError, describeError, isEbbtideError } from '../errors.js';
import type { EbbtideConfig } from './EbbtideConfig.js';
import { FORMATS_BY_NAME, registerFormats } from './formats.js';
import { coreSchema } from './coreSchema.js';
import { type ConfigLeaf, type ConfigSchemaSection, envNameFor, isConfigLeaf, schemaLeaves } from './schema.js';
import { validatePoolBackends } from '../pools/validatePoolBackends.js';
import type { BlindRule } from '../pools/GuardRails.js';
import type { PoolConfig } from '../pools/PoolConfig.js';

/** Where each configuration value came from, later wins: default < file < env < flag. */
export type ConfigSource = 'default' | 'preset' | 'file' | 'env' | 'flag';

export interface ConfigSources {
  /** Config file path (JSON or YAML). */
  file?: string;
  /** Environment to read `EBBTIDE_*` variables from; `process.env` when absent. */
  env?: Record<string, string | undefined>;
  /** Command-line values by dotted key (`{ 'adaptive.minimum': '2' }`). */
  flags?: Record<string, string>;
  /** Base directory for relative plugin paths when there is no file; the cwd by default. */
  cwd?: string;
  /** Values a command presets (e.g. `ebbtide demo`), below the file: default < preset < file < env < flag. */
  preset?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: EbbtideConfig;
  /** Source of every leaf key. */
  sources: Record<string, ConfigSource>;
  /** Directory relative plugin paths resolve against. */
  baseDir: string;
  /** The merged schema the values were validated against. */
  schema: ConfigSchemaSection;
}

/** A schema section contributed by a named owner (the core or a plugin). */
export interface OwnedSchema {
  owner: string;
  schema: ConfigSchemaSection;
}

/** Reads and parses a config file (`.json`, `.yaml`, `.yml`). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EbbtideError('CONFIG_FILE', `cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : describeError(e)}`, {
      cause: e,
    });
  }
  const ext = extname(path).toLowerCase();
  let value: unknown;
  try {
    if (ext === '.json') value = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') value = YAML.parse(text);
    else {
      throw new Error(`unknown extension "${ext}": use .json, .yaml or .yml`);
    }
  } catch (e) {
    throw new EbbtideError('CONFIG_FILE', `cannot parse config file ${path}: ${describeError(e)}`, { cause: e });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new EbbtideError('CONFIG_FILE', `config file ${path} must hold an object of settings, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Merges schema sections; a key declared twice is a `PLUGIN_INVALID` error naming both owners.
 */
export function mergeSchemas(sections: OwnedSchema[]): ConfigSchemaSection {
  const merged: ConfigSchemaSection = {};
  const owners = new Map<string, string>();
  for (const { owner, schema } of sections) {
    for (const [path, leaf] of schemaLeaves(schema)) {
      const prev = owners.get(path);
      if (prev !== undefined) {
        throw new EbbtideError('PLUGIN_INVALID', `plugin "${owner}" declares config key ${path}, which "${prev}" already declares`, {
          plugin: owner,
          key: path,
        });
      }
      owners.set(path, owner);
      const parts = path.split('.');
      let node = merged;
      for (const p of parts.slice(0, -1)) {
        const next = node[p];
        if (next === undefined) node = node[p] = {};
        else if (next && typeof next === 'object' && !('format' in next)) node = next as ConfigSchemaSection;
        else throw new EbbtideError('PLUGIN_INVALID', `plugin "${owner}" nests config key ${path} under a value key`, { plugin: owner, key: path });
      }
      node[parts[parts.length - 1]!] = { ...leaf, env: leaf.env ?? envNameFor(path) };
    }
  }
  return merged;
}

function hasPath(obj: unknown, path: string): boolean {
  let node: unknown = obj;
  for (const p of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(p in node)) return false;
    node = (node as Record<string, unknown>)[p];
  }
  return true;
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** The closest declared key, when one is close enough to be a likely typo. */
export function suggestKey(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = levenshtein(key.toLowerCase(), k.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function sourceNote(source: ConfigSource, path: string, leaf: ConfigLeaf | undefined, file?: string): string {
  switch (source) {
    case 'flag':
      return ` (from flag --${path})`;
    case 'env':
      return ` (from env ${leaf?.env ?? envNameFor(path)})`;
    case 'file':
      return file ? ` (from ${file})` : '';
    case 'preset':
      return ' (preset by the command)';
    default:
      return ' (the default)';
  }
}

/**
 * Checks that the file gives a section (an object) wherever the schema has one, so a scalar in
 * place of `adaptive:` is one clear message instead of convict's "did you override its parent?".
 * A null section (YAML `adaptive:` with every child commented out) counts as empty.
 */
function checkShape(values: Record<string, unknown>, schema: ConfigSchemaSection, file: string, prefix = ''): void {
  for (const [k, v] of Object.entries(values)) {
    const node = schema[k];
    const path = prefix ? `${prefix}.${k}` : k;
    if (node === undefined || isConfigLeaf(node)) continue;
    if (v === null) {
      delete values[k];
      continue;
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      throw new EbbtideError('CONFIG_INVALID', `${path}: expected a section of settings (${Object.keys(node).join(', ')}), got ${JSON.stringify(v)} (from ${file})`, {
        key: path,
      });
    }
    checkShape(v as Record<string, unknown>, node, file, path);
  }
}

function buildConvict(schema: ConfigSchemaSection, sources: ConfigSources, fileValues: Record<string, unknown> | undefined) {
  registerFormats();
  const c = convict(schema as convict.Schema<Record<string, unknown>>, {
    env: (sources.env ?? process.env) as NodeJS.ProcessEnv,
    args: [],
  });
  if (sources.preset) c.load(sources.preset);
  if (fileValues) c.load(fileValues);
  for (const [k, v] of Object.entries(sources.flags ?? {})) c.set(k, v);
  return c;
}

/**
 * The `plugins` list from every source, read before plugin schemas exist (no validation yet).
 */
export function readPluginList(sources: ConfigSources): { plugins: unknown; baseDir: string; fileValues?: Record<string, unknown> } {
  const fileValues = sources.file ? readConfigFile(sources.file) : undefined;
  if (fileValues && fileValues.plugins !== undefined && !Array.isArray(fileValues.plugins)) {
    throw new EbbtideError('CONFIG_INVALID', `plugins: expected a list of module names or paths, got ${JSON.stringify(fileValues.plugins)} (from ${sources.file})`, {
      key: 'plugins',
    });
  }
  const schema = mergeSchemas([{ owner: 'core', schema: coreSchema }]);
  const c = buildConvict(
    schema,
    { ...sources, flags: Object.fromEntries(Object.entries(sources.flags ?? {}).filter(([k]) => k === 'plugins')) },
    fileValues && structuredClone(fileValues),
  );
  return { plugins: c.get('plugins' as never), baseDir: baseDirOf(sources), ...(fileValues ? { fileValues } : {}) };
}

function baseDirOf(sources: ConfigSources): string {
  return sources.file ? dirname(resolvePath(sources.file)) : (sources.cwd ?? process.cwd());
}

/**
 * Loads, validates and types the configuration.
 *
 * @param sections the core schema and each plugin's section, in load order.
 * @param preloaded the config file's values when the caller already read it (the kernel reads it
 *   once for `plugins`), so the file is not read and parsed twice.
 * @throws EbbtideError `CONFIG_FILE` (unreadable or unparsable file), `CONFIG_INVALID` (a bad
 *   value, an unknown key or flag, minimum > maximum), `PLUGIN_INVALID` (a key declared twice).
 */
export function loadConfig(sections: OwnedSchema[], sources: ConfigSources = {}, preloaded?: Record<string, unknown>): LoadedConfig {
  const schema = mergeSchemas(sections);
  const leaves = new Map(schemaLeaves(schema));
  const known = [...leaves.keys()];
  const env = sources.env ?? process.env;

  for (const flag of Object.keys(sources.flags ?? {})) {
    if (!leaves.has(flag)) {
      const s = suggestKey(flag, known);
      throw new EbbtideError('CONFIG_INVALID', `unknown flag --${flag}: no such config key${s ? `; did you mean --${s}?` : ''}`, {
        key: flag,
        hint: 'run `ebbtide config` to list every key',
      });
    }
  }

  const fileValues = sources.file ? (preloaded ? structuredClone(preloaded) : readConfigFile(sources.file)) : undefined;
  if (fileValues) checkShape(fileValues, schema, sources.file!);
  const sourcesOf: Record<string, ConfigSource> = {};
  for (const [path, leaf] of leaves) {
    if (sources.flags && path in sources.flags) sourcesOf[path] = 'flag';
    else if (leaf.env && env[leaf.env] !== undefined) sourcesOf[path] = 'env';
    else if (fileValues && hasPath(fileValues, path)) sourcesOf[path] = 'file';
    else if (sources.preset && hasPath(sources.preset, path)) sourcesOf[path] = 'preset';
    else sourcesOf[path] = 'default';
  }

  let c: ReturnType<typeof buildConvict>;
  try {
    c = buildConvict(schema, sources, fileValues);
    c.validate({ allowed: 'strict' });
  } catch (e) {
    if (isEbbtideError(e)) throw e;
    const lines: string[] = [];
    let firstKey: string | undefined;
    for (const line of describeError(e).split('\n')) {
      const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
      if (undeclared) {
        const key = undeclared[1]!;
        firstKey ??= key;
        const s = suggestKey(key, known);
        lines.push(`${key}: unknown key (not declared by the core or any loaded plugin)${s ? `; did you mean ${s}?` : ''}${sources.file ? ` (in ${sources.file})` : ''}`);
        continue;
      }
      const invalid = /^([\w.-]+): (.*?)(?:: value was (.*))?$/.exec(line);
      if (invalid && leaves.has(invalid[1]!)) {
        const key = invalid[1]!;
        firstKey ??= key;
        let got: string;
        try {
          got = invalid[3] ?? JSON.stringify(c! ? c.get(key as never) : undefined);
        } catch {
          got = 'undefined';
        }
        // A nested entry's parser names the entry and the value itself (`[1].period: expected ..., got ...`).
        if (/^\[\d+\]/.test(invalid[2]!)) lines.push(`${key}${invalid[2]}${sourceNote(sourcesOf[key] ?? 'default', key, leaves.get(key), sources.file)}`);
        else lines.push(`${key}: ${invalid[2]}, got ${got}${sourceNote(sourcesOf[key] ?? 'default', key, leaves.get(key), sources.file)}`);
        continue;
      }
      lines.push(line);
    }
    throw new EbbtideError('CONFIG_INVALID', lines.join('\n'), {
      cause: e,
      ...(firstKey ? { key: firstKey } : {}),
      hint: 'run `ebbtide config` to list every key with its allowed values',
    });
  }

  const typed: Record<string, unknown> = {};
  for (const [path, leaf] of leaves) {
    let value: unknown = c.get(path as never);
    const fmt = typeof leaf.format === 'string' ? FORMATS_BY_NAME.get(leaf.format) : undefined;
    if (fmt && !(leaf.nullable && value === null)) value = fmt.resolve(value);
    setPath(typed, path, value);
  }
  const config = typed as EbbtideConfig;

  const { minimum, maximum } = config.adaptive;
  if (minimum > maximum) {
    throw new EbbtideError(
      'CONFIG_INVALID',
      `adaptive.minimum: expected a whole number <= adaptive.maximum (${maximum}), got ${minimum}${sourceNote(sourcesOf['adaptive.minimum']!, 'adaptive.minimum', leaves.get('adaptive.minimum'), sources.file)}`,
      { key: 'adaptive.minimum', hint: 'Dask lets minimum silently win over maximum; ebbtide, like KEDA and the HPA, rejects it' },
    );
  }

  const pools = config.pools as PoolConfig[] | undefined;
  if (Array.isArray(pools) && pools.length) {
    validatePoolBackends(pools, schema, {
      backend: config.backend,
      cluster: config.cluster.name,
      maximum,
      blind: (config.adaptive as { blind?: BlindRule }).blind,
      ...(sources.file ? { file: sources.file } : {}),
    });
  }

  return { config, sources: sourcesOf, baseDir: baseDirOf(sources), schema };
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = obj;
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1]!] = value;
}

/** The config a test or embedding program gets with every default: no file, no env, no flags. */
export function defaultConfig(sections: OwnedSchema[] = [{ owner: 'core', schema: coreSchema }]): EbbtideConfig {
  return loadConfig(sections, { env: {} }).config;
}
