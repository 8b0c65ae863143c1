import convict from 'convict';
import { FORMATS_BY_NAME, registerFormats } from '../config/formats.js';
import { type ConfigSchemaSection, isConfigLeaf, schemaLeaves } from '../config/schema.js';
import { EbbtideError, describeError } from '../errors.js';
import type { PoolConfig } from './PoolConfig.js';
import { type BlindRule, NO_GUARD_RAILS } from './GuardRails.js';

/** The same rule as `cluster.name`: `{cluster}-{pool}` names a pool's workers, pods, services and locks. */
const QUALIFIED = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** A copy of a schema section without environment names: a pool's section is read from the file only. */
function withoutEnv(section: ConfigSchemaSection): ConfigSchemaSection {
  const out: ConfigSchemaSection = {};
  for (const [k, v] of Object.entries(section)) {
    if (isConfigLeaf(v)) {
      const { env: _env, arg: _arg, ...leaf } = v;
      out[k] = leaf;
    } else out[k] = withoutEnv(v);
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = obj;
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1]!] = value;
}

/**
 * Completes the `pools:` entries once every plugin's schema is merged: each pool's own `backend`
 * section is validated against the backend plugins' keys (as the top-level `backend` is, but
 * from the file only: no environment variables) and typed; a pool without one gets the
 * top-level `backend`. Also checks what spans pools: the floors fit under `adaptive.maximum`,
 * and `{cluster}-{pool}` is a valid cluster name (backends use it for the pool's lock and labels).
 *
 * @throws EbbtideError `CONFIG_INVALID` naming the key (`pools[1].backend.local.command`).
 */
export function validatePoolBackends(
  pools: PoolConfig[],
  schema: ConfigSchemaSection,
  context: { backend: Record<string, unknown>; cluster: string; maximum: number; blind?: BlindRule; file?: string },
): void {
  const where = context.file ? ` (in ${context.file})` : '';
  const fail = (key: string, message: string, hint?: string): never => {
    throw new EbbtideError('CONFIG_INVALID', `${key}: ${message}${where}`, { key, ...(hint ? { hint } : {}) });
  };
  const backendSchema = schema.backend;
  let floors = 0;
  pools.forEach((pool, i) => {
    floors += pool.minimum;
    // A pool without a blind rule of its own follows the cluster's (adaptive.blind).
    if (pool.rails.blind === NO_GUARD_RAILS.blind && context.blind) pool.rails.blind = context.blind;
    const qualified = `${context.cluster}-${pool.name}`;
    if (!QUALIFIED.test(qualified)) {
      fail(`pools[${i}].name`, `"${qualified}" ({cluster}-{pool}) must be at most 40 characters of lowercase letters, digits and dashes`, 'shorten cluster.name or the pool name');
    }
    if (!pool.ownBackend) {
      pool.backend = context.backend as PoolConfig['backend'];
      return;
    }
    if (!backendSchema || isConfigLeaf(backendSchema)) return;
    registerFormats();
    const section = withoutEnv(backendSchema);
    const c = convict({ backend: section } as convict.Schema<Record<string, unknown>>, { env: {}, args: [] });
    try {
      c.load({ backend: pool.backend });
      c.validate({ allowed: 'strict' });
    } catch (e) {
      const line = describeError(e).split('\n')[0] ?? '';
      const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
      if (undeclared) fail(`pools[${i}].${undeclared[1]}`, 'unknown key (not declared by any loaded backend plugin)');
      const invalid = /^([\w.-]+): (.*?)(?:: value was (.*))?$/.exec(line);
      if (invalid) {
        let value: unknown = { backend: pool.backend };
        for (const part of invalid[1]!.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
        fail(`pools[${i}].${invalid[1]}`, `${invalid[2]}, got ${invalid[3] ?? JSON.stringify(value)}`);
      }
      fail(`pools[${i}].backend`, line);
    }
    const typed: Record<string, unknown> = {};
    for (const [path, leaf] of schemaLeaves({ backend: section })) {
      let value: unknown = c.get(path as never);
      const fmt = typeof leaf.format === 'string' ? FORMATS_BY_NAME.get(leaf.format) : undefined;
      if (fmt && !(leaf.nullable && value === null)) value = fmt.resolve(value);
      setPath(typed, path, value);
    }
    pool.backend = typed.backend as PoolConfig['backend'];
  });
  if (floors > context.maximum) {
    fail('pools', `the pools' minimums add up to ${floors}, above adaptive.maximum (${context.maximum})`, 'lower a pool minimum or raise adaptive.maximum');
  }
}
