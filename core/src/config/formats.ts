import convict from 'convict';
import { LOG_LEVELS } from '../logging/Logger.js';
import { MAX_DURATION_TEXT, parseBytes, parseCountOrInf, parseDuration, parsePositiveInteger, parseWholeNumber } from './parse.js';
import { parsePoolEntries } from '../pools/PoolConfig.js';
import { ConfigProblem, parseBlindPolicy, parsePolicies, parseSchedule, parseSelectPolicy } from '../pools/parseGuardRails.js';

/**
 * The value formats shared by every config section, registered once with convict. Each format's
 * `validate` throws a message saying what is allowed; `coerce` turns env/flag strings into values.
 * `resolve` (ours, not convict's) turns a validated raw value into the typed value plugins get.
 */
interface FormatDef {
  name: string;
  expected: string;
  check(v: unknown): boolean;
  coerce?(v: string): unknown;
  resolve(v: unknown): unknown;
  /** What exactly is wrong with a value `check` refuses (nested entries), instead of `expected`. */
  problem?(v: unknown): string | undefined;
}

/** A format whose values a parser checks and types, with the parser's own words for what is wrong. */
function parsed(name: string, expected: string, parse: (v: unknown) => unknown): FormatDef {
  const problem = (v: unknown): string | undefined => {
    try {
      parse(v);
      return undefined;
    } catch (e) {
      if (e instanceof ConfigProblem) return e.message;
      throw e;
    }
  };
  return { name, expected, check: (v) => problem(v) === undefined, coerce: jsonish, resolve: parse, problem };
}

function numberish(v: string): unknown {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}

function jsonish(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export const FORMATS: readonly FormatDef[] = [
  {
    name: 'duration',
    expected: `a duration such as "500ms", "2s", "1.5m" or a number of seconds, from 0 to ${MAX_DURATION_TEXT}`,
    check: (v) => parseDuration(v) !== undefined,
    coerce: numberish,
    resolve: (v) => parseDuration(v),
  },
  {
    name: 'positive-duration',
    expected: `a duration > 0 such as "500ms", "5s" or a number of seconds, at most ${MAX_DURATION_TEXT}`,
    check: (v) => (parseDuration(v) ?? 0) > 0,
    coerce: numberish,
    resolve: (v) => parseDuration(v),
  },
  {
    name: 'duration-map',
    expected: `an object mapping task prefixes to durations such as {"load": "2s"}, each at most ${MAX_DURATION_TEXT}`,
    check: (v) =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((d) => parseDuration(d) !== undefined),
    coerce: jsonish,
    resolve: (v) => Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, d]) => [k, parseDuration(d)!])),
  },
  {
    name: 'count-or-inf',
    expected: 'a whole number >= 0 or "inf"',
    check: (v) => parseCountOrInf(v) !== undefined,
    resolve: (v) => parseCountOrInf(v),
  },
  {
    name: 'whole-number',
    expected: 'a whole number >= 0',
    check: (v) => parseWholeNumber(v) !== undefined,
    coerce: numberish,
    resolve: (v) => parseWholeNumber(v),
  },
  {
    name: 'positive-integer',
    expected: 'a whole number >= 1',
    check: (v) => parsePositiveInteger(v) !== undefined,
    coerce: numberish,
    resolve: (v) => parsePositiveInteger(v),
  },
  {
    name: 'positive-number-or-null',
    expected: 'a number > 0, or null',
    check: (v) => v === null || (typeof v === 'number' && Number.isFinite(v) && v > 0),
    coerce: (v) => (v === 'null' || v === '' ? null : numberish(v)),
    resolve: (v) => v,
  },
  {
    name: 'bytes',
    expected: 'a size such as "4GB", "512MiB" or a number of bytes >= 0',
    check: (v) => parseBytes(v) !== undefined,
    coerce: numberish,
    resolve: (v) => parseBytes(v),
  },
  {
    name: 'name',
    expected: 'a non-empty name',
    check: (v) => typeof v === 'string' && v.trim().length > 0,
    resolve: (v) => v,
  },
  {
    name: 'selection',
    expected: 'the name of a registered implementation (see `ebbtide plugins`)',
    check: (v) => typeof v === 'string',
    resolve: (v) => v,
  },
  {
    name: 'string',
    expected: 'a string',
    check: (v) => typeof v === 'string',
    resolve: (v) => v,
  },
  {
    name: 'boolean',
    expected: 'true or false',
    check: (v) => typeof v === 'boolean',
    coerce: (v) => (v === 'true' ? true : v === 'false' ? false : v),
    resolve: (v) => v,
  },
  {
    name: 'string-list',
    expected: 'a list of strings',
    check: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
    coerce: (v) => {
      const j = jsonish(v);
      return Array.isArray(j) ? j : v.split(',').map((s) => s.trim()).filter(Boolean);
    },
    resolve: (v) => v,
  },
  {
    name: 'command',
    expected:
      'a non-empty argument array such as ["python3", "-m", "distributed.cli.dask_worker", "{scheduler}"]: the program and each argument a separate string (not one command line)',
    check: (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string') && /^\S+$/.test(v[0] as string),
    coerce: (v) => {
      const j = jsonish(v);
      return Array.isArray(j) ? j : v.split(',').map((s) => s.trim()).filter(Boolean);
    },
    resolve: (v) => v,
  },
  {
    name: 'string-map',
    expected: 'an object of string values',
    check: (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string'),
    coerce: jsonish,
    resolve: (v) => v,
  },
  {
    name: 'port',
    expected: 'a port number 0-65535 (0 = any free port)',
    check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535,
    coerce: numberish,
    resolve: (v) => v,
  },
  {
    name: 'log-level',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    check: (v) => typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v),
    resolve: (v) => v,
  },
  {
    name: 'cluster-name',
    expected: 'lowercase letters, digits and dashes, starting with a letter, at most 40 characters (it prefixes worker, pod and service names)',
    check: (v) => typeof v === 'string' && /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/.test(v),
    resolve: (v) => v,
  },
  {
    name: 'shutdown-workers',
    expected: 'stop or keep',
    check: (v) => v === 'stop' || v === 'keep',
    resolve: (v) => v,
  },
  parsed('scaling-policies', 'a list of { type: workers|percent, value, period } such as [{ type: percent, value: 10, period: 60s }]', (v) => parsePolicies(v)),
  parsed('select-policy', 'max, min or disabled', (v) => parseSelectPolicy(v)),
  parsed('blind-policy', 'hold or scale-to', (v) => parseBlindPolicy(v)),
  parsed('schedule', 'a list of { cron, duration, minimum?, maximum?, timezone? } such as [{ cron: "0 9 * * 1-5", duration: 8h, minimum: 4 }]', (v) => parseSchedule(v)),
  parsed('pools', 'a list of pools { name, backend: { type, <type>: {...} }, minimum, maximum, cost, resources, labels, priority }', (v) => parsePoolEntries(v)),
  {
    name: 'log-format',
    expected: 'pretty or json',
    check: (v) => v === 'pretty' || v === 'json',
    resolve: (v) => v,
  },
];

export const FORMATS_BY_NAME: ReadonlyMap<string, FormatDef> = new Map(FORMATS.map((f) => [f.name, f]));

let registered = false;

/** Registers the shared formats with convict (idempotent). */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const f of FORMATS) {
    convict.addFormat({
      name: f.name,
      validate(v: unknown) {
        if (!f.check(v)) throw new Error(f.problem?.(v) ?? `expected ${f.expected}`);
      },
      ...(f.coerce ? { coerce: f.coerce } : {}),
    });
  }
}
