import { parseBytes, parsePositiveInteger } from '../config/parse.js';
import type { GuardRails } from './GuardRails.js';
import {
  ConfigProblem,
  countOrInf,
  got,
  isObject,
  jsonish,
  onlyKeys,
  parseBlind,
  parseDirection,
  parseSchedule,
  wholeNumber,
} from './parseGuardRails.js';

/** The name of the one pool that `backend` + `adaptive.minimum/maximum` form without `pools:`. */
export const DEFAULT_POOL = 'default';

/**
 * One entry of `pools:` (docs/pools.md), validated. `backend` is the pool's own `backend`
 * section (`{ type, <type>: {...} }`), typed by the backend plugin's schema once the config is
 * loaded; a pool without one uses the top-level `backend`.
 */
export interface PoolConfig {
  name: string;
  backend: { type: string; [section: string]: unknown };
  minimum: number;
  /** `Infinity` for "inf" (the default). */
  maximum: number;
  /** Relative price per worker-hour (default 1). */
  cost: number;
  /** Between pools of equal cost, higher first (default 0). */
  priority: number;
  /** What one worker offers (Dask worker resources, `{ GPU: 1 }`). */
  resources: Record<string, number>;
  /** Attached to the pool's workers (and usable by worker keys: `label:<name>`). */
  labels: Record<string, string>;
  /** Threads per worker; default `cluster.nthreads`. */
  nthreads?: number;
  /** Bytes per worker; default `cluster.memoryLimit`. */
  memoryLimit?: number;
  /** Its own guard rails (`scaleUp`, `scaleDown`, `blind`, `schedule`). */
  rails: GuardRails;
  /** True when the entry gave its own `backend` (else the top-level one is used). */
  ownBackend: boolean;
}

const POOL_KEYS = ['name', 'backend', 'minimum', 'maximum', 'cost', 'resources', 'labels', 'priority', 'nthreads', 'memoryLimit', 'scaleUp', 'scaleDown', 'blind', 'schedule'] as const;

/** Lowercase letters, digits and dashes, starting with a letter: it becomes part of worker names. */
const POOL_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Parses `pools:` entries (everything but the inside of each `backend`, which needs the backend
 * plugins' schema: see `validatePoolBackends`).
 *
 * @throws ConfigProblem naming the entry (`[1].maximum`) and what was expected.
 */
export function parsePoolEntries(raw: unknown): PoolConfig[] {
  const v = jsonish(raw);
  if (!Array.isArray(v)) throw new ConfigProblem('', `expected a list of pools such as [{ name: cheap, backend: { type: local }, maximum: 4, cost: 1 }], got ${got(v)}`);
  const seen = new Set<string>();
  return v.map((e: unknown, i) => {
    const at = `[${i}]`;
    if (!isObject(e)) throw new ConfigProblem(at, `expected a pool { name, backend, minimum, maximum, cost, resources, labels, priority }, got ${got(e)}`);
    onlyKeys(e, POOL_KEYS, at);
    if (typeof e.name !== 'string' || !POOL_NAME.test(e.name)) {
      throw new ConfigProblem(`${at}.name`, `expected lowercase letters, digits and dashes, starting with a letter (it becomes part of worker names: {cluster}-{pool}-{i}), got ${got(e.name)}`);
    }
    if (seen.has(e.name)) throw new ConfigProblem(`${at}.name`, `pool "${e.name}" is named twice`);
    seen.add(e.name);
    const minimum = e.minimum === undefined ? 0 : wholeNumber(e.minimum, `${at}.minimum`);
    const maximum = e.maximum === undefined ? Infinity : countOrInf(e.maximum, `${at}.maximum`);
    if (minimum > maximum) throw new ConfigProblem(`${at}.minimum`, `expected at most the pool's maximum (${maximum}), got ${minimum}`);
    let cost = 1;
    if (e.cost !== undefined) {
      if (typeof e.cost !== 'number' || !Number.isFinite(e.cost) || e.cost < 0) throw new ConfigProblem(`${at}.cost`, `expected a number >= 0 (a relative price per worker-hour), got ${got(e.cost)}`);
      cost = e.cost;
    }
    let priority = 0;
    if (e.priority !== undefined) {
      if (typeof e.priority !== 'number' || !Number.isInteger(e.priority)) throw new ConfigProblem(`${at}.priority`, `expected a whole number (higher first among pools of equal cost), got ${got(e.priority)}`);
      priority = e.priority;
    }
    const resources: Record<string, number> = {};
    if (e.resources !== undefined) {
      if (!isObject(e.resources)) throw new ConfigProblem(`${at}.resources`, `expected what one worker offers, such as { GPU: 1 }, got ${got(e.resources)}`);
      for (const [r, n] of Object.entries(e.resources)) {
        if (typeof n !== 'number' || !Number.isFinite(n) || !(n > 0)) throw new ConfigProblem(`${at}.resources.${r}`, `expected a number > 0, got ${got(n)}`);
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(r)) throw new ConfigProblem(`${at}.resources.${r}`, 'expected a resource name of letters, digits, "_", "." and "-", starting with a letter or "_"');
        resources[r] = n;
      }
    }
    const labels: Record<string, string> = {};
    if (e.labels !== undefined) {
      if (!isObject(e.labels)) throw new ConfigProblem(`${at}.labels`, `expected labels such as { tier: spot }, got ${got(e.labels)}`);
      for (const [k, l] of Object.entries(e.labels)) {
        if (typeof l !== 'string') throw new ConfigProblem(`${at}.labels.${k}`, `expected a string, got ${got(l)}`);
        labels[k] = l;
      }
    }
    let backend: PoolConfig['backend'] = { type: '' };
    if (e.backend !== undefined) {
      if (!isObject(e.backend) || typeof e.backend.type !== 'string' || !e.backend.type) {
        throw new ConfigProblem(`${at}.backend`, `expected { type: <backend>, <backend>: { ... } } (as the top-level backend section), got ${got(e.backend)}`);
      }
      backend = e.backend as PoolConfig['backend'];
    }
    const pool: PoolConfig = {
      name: e.name,
      backend,
      minimum,
      maximum,
      cost,
      priority,
      resources,
      labels,
      rails: {
        scaleUp: parseDirection(e.scaleUp, `${at}.scaleUp`),
        scaleDown: parseDirection(e.scaleDown, `${at}.scaleDown`),
        blind: parseBlind(e.blind, `${at}.blind`),
        schedule: e.schedule === undefined ? [] : parseSchedule(e.schedule, `${at}.schedule`),
      },
      ownBackend: e.backend !== undefined,
    };
    if (e.nthreads !== undefined) {
      const n = parsePositiveInteger(e.nthreads);
      if (n === undefined) throw new ConfigProblem(`${at}.nthreads`, `expected a whole number >= 1, got ${got(e.nthreads)}`);
      pool.nthreads = n;
    }
    if (e.memoryLimit !== undefined) {
      const b = parseBytes(e.memoryLimit);
      if (b === undefined) throw new ConfigProblem(`${at}.memoryLimit`, `expected a size such as "4GB" or a number of bytes, got ${got(e.memoryLimit)}`);
      pool.memoryLimit = b;
    }
    for (const [j, s] of pool.rails.schedule.entries()) {
      if (s.minimum !== undefined && s.minimum > maximum) throw new ConfigProblem(`${at}.schedule[${j}].minimum`, `expected at most the pool's maximum (${maximum}), got ${s.minimum}`);
    }
    return pool;
  });
}
