import { parseCountOrInf, parseDuration, parsePositiveInteger, parseWholeNumber } from '../config/parse.js';
import type { BlindRule, DirectionRules, ScalingPolicy, ScheduleEntry, SelectPolicy } from './GuardRails.js';
import { NO_DIRECTION_RULES, NO_GUARD_RAILS } from './GuardRails.js';
import { parseCron } from './schedule.js';

/**
 * A value in a nested config entry (a pool, a policy, a schedule entry) that is wrong: `path`
 * says where below the config key (`[1].period`), `message` what was expected and what came.
 */
export class ConfigProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path ? `${path}: ` : ''}${message}`);
  }
}

export const got = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v === Infinity ? 'inf' : v));

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Edit distance (for "did you mean"); the config loader's own lives with it, this one with nested entries. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Fails on keys not in `known`, naming the closest one. */
export function onlyKeys(v: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const k of Object.keys(v)) {
    if (known.includes(k)) continue;
    const close = [...known].sort((x, y) => distance(k.toLowerCase(), x.toLowerCase()) - distance(k.toLowerCase(), y.toLowerCase())).find((n) => distance(k.toLowerCase(), n.toLowerCase()) <= Math.max(2, Math.floor(k.length / 4)));
    throw new ConfigProblem(`${path}.${k}`, `unknown key; expected one of ${known.join(', ')}${close ? ` (did you mean ${close}?)` : ''}`);
  }
}

export function duration(v: unknown, path: string, positive = false): number {
  const s = parseDuration(v);
  if (s === undefined || (positive && !(s > 0))) throw new ConfigProblem(path, `expected a duration${positive ? ' > 0' : ''} such as "30s", "5m" or a number of seconds, got ${got(v)}`);
  return s;
}

export function wholeNumber(v: unknown, path: string): number {
  const n = parseWholeNumber(v);
  if (n === undefined) throw new ConfigProblem(path, `expected a whole number >= 0, got ${got(v)}`);
  return n;
}

export function countOrInf(v: unknown, path: string): number {
  const n = parseCountOrInf(v);
  if (n === undefined) throw new ConfigProblem(path, `expected a whole number >= 0 or "inf", got ${got(v)}`);
  return n;
}

/** JSON in an environment variable or a flag (`[{"type":"percent",...}]`), else the value itself. */
export function jsonish(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** `{ type: workers|percent, value, period }` entries (HPA's `policies`). */
export function parsePolicies(raw: unknown, path = ''): ScalingPolicy[] {
  const v = jsonish(raw);
  if (!Array.isArray(v)) throw new ConfigProblem(path, `expected a list of policies such as [{ type: percent, value: 10, period: 60s }], got ${got(v)}`);
  return v.map((p: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(p)) throw new ConfigProblem(at, `expected { type: workers|percent, value, period }, got ${got(p)}`);
    onlyKeys(p, ['type', 'value', 'period'], at);
    if (p.type !== 'workers' && p.type !== 'percent') throw new ConfigProblem(`${at}.type`, `expected workers or percent, got ${got(p.type)}`);
    const value = parsePositiveInteger(p.value);
    if (value === undefined) throw new ConfigProblem(`${at}.value`, `expected a whole number > 0 (workers, or percent of the workers), got ${got(p.value)}`);
    return { type: p.type, value, period: duration(p.period, `${at}.period`, true) };
  });
}

export function parseSelectPolicy(v: unknown, path = ''): SelectPolicy {
  if (v === 'max' || v === 'min' || v === 'disabled') return v;
  throw new ConfigProblem(path, `expected max, min or disabled, got ${got(v)}`);
}

export function parseBlindPolicy(v: unknown, path = ''): BlindRule['policy'] {
  if (v === 'hold' || v === 'scale-to') return v;
  throw new ConfigProblem(path, `expected hold or scale-to, got ${got(v)}`);
}

/** `[{ cron, duration, minimum?, maximum?, timezone? }]` (KEDA's cron scaler). */
export function parseSchedule(raw: unknown, path = ''): ScheduleEntry[] {
  const v = jsonish(raw);
  if (!Array.isArray(v)) throw new ConfigProblem(path, `expected a list of windows such as [{ cron: "0 9 * * 1-5", duration: 8h, minimum: 4 }], got ${got(v)}`);
  return v.map((e: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(e)) throw new ConfigProblem(at, `expected { cron, duration, minimum?, maximum?, timezone? }, got ${got(e)}`);
    onlyKeys(e, ['cron', 'duration', 'minimum', 'maximum', 'timezone'], at);
    if (typeof e.cron !== 'string' || !e.cron.trim()) throw new ConfigProblem(`${at}.cron`, `expected a cron expression such as "0 9 * * 1-5", got ${got(e.cron)}`);
    const timezone = e.timezone === undefined ? 'UTC' : e.timezone;
    if (typeof timezone !== 'string' || !timezone) throw new ConfigProblem(`${at}.timezone`, `expected an IANA time zone such as "Europe/Berlin", got ${got(e.timezone)}`);
    try {
      parseCron(e.cron, timezone, at);
    } catch (err) {
      throw new ConfigProblem(`${at}.cron`, (err as Error).message.replace(/^[^:]+: /, ''));
    }
    const entry: ScheduleEntry = { cron: e.cron, duration: duration(e.duration, `${at}.duration`, true), timezone };
    if (e.minimum !== undefined) entry.minimum = wholeNumber(e.minimum, `${at}.minimum`);
    if (e.maximum !== undefined) entry.maximum = wholeNumber(e.maximum, `${at}.maximum`);
    if (entry.minimum === undefined && entry.maximum === undefined) throw new ConfigProblem(at, 'a window needs a minimum (a floor), a maximum (a ceiling), or both');
    if (entry.minimum !== undefined && entry.maximum !== undefined && entry.minimum > entry.maximum) {
      throw new ConfigProblem(`${at}.minimum`, `expected at most the window's maximum (${entry.maximum}), got ${entry.minimum}`);
    }
    return entry;
  });
}

/** `{ stabilizationWindow?, policies?, selectPolicy?, cooldown? }` of one direction. */
export function parseDirection(raw: unknown, path: string): DirectionRules {
  if (raw === undefined || raw === null) return NO_DIRECTION_RULES;
  if (!isObject(raw)) throw new ConfigProblem(path, `expected { stabilizationWindow, policies, selectPolicy, cooldown }, got ${got(raw)}`);
  onlyKeys(raw, ['stabilizationWindow', 'policies', 'selectPolicy', 'cooldown'], path);
  return {
    stabilizationWindow: raw.stabilizationWindow === undefined ? 0 : duration(raw.stabilizationWindow, `${path}.stabilizationWindow`),
    policies: raw.policies === undefined ? [] : parsePolicies(raw.policies, `${path}.policies`),
    selectPolicy: raw.selectPolicy === undefined ? 'max' : parseSelectPolicy(raw.selectPolicy, `${path}.selectPolicy`),
    cooldown: raw.cooldown === undefined ? 0 : duration(raw.cooldown, `${path}.cooldown`),
  };
}

export function parseBlind(raw: unknown, path: string, fallback: BlindRule = NO_GUARD_RAILS.blind): BlindRule {
  if (raw === undefined || raw === null) return fallback;
  if (!isObject(raw)) throw new ConfigProblem(path, `expected { policy: hold|scale-to, workers, after }, got ${got(raw)}`);
  onlyKeys(raw, ['policy', 'workers', 'after'], path);
  const policy = raw.policy === undefined ? 'hold' : parseBlindPolicy(raw.policy, `${path}.policy`);
  const workers = raw.workers === undefined ? 0 : wholeNumber(raw.workers, `${path}.workers`);
  if (policy === 'scale-to' && raw.workers === undefined) throw new ConfigProblem(`${path}.workers`, 'scale-to needs the number of workers to scale to');
  return { policy, workers, after: raw.after === undefined ? 0 : duration(raw.after, `${path}.after`) };
}
