import { EbbtideError, parseDuration } from '@ebbtide/core';
import type { Random } from '../random/Random.js';

/** How long a simulated worker takes from the start request to connecting to the scheduler. */
export type StartupDelay =
  | { kind: 'fixed'; seconds: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'exponential'; mean: number };

const EXPECTED = 'a duration ("5s"), "uniform:<min>:<max>" ("uniform:2s:10s") or "exp:<mean>" ("exp:5s")';

/**
 * Parses the `simulator.startupDelay` syntax:
 * - `"5s"` or `5` — always 5 seconds;
 * - `"uniform:2s:10s"` — uniform between 2 and 10 seconds;
 * - `"exp:5s"` — exponential with a mean of 5 seconds.
 *
 * @param key the config key to name in errors.
 * @throws EbbtideError `CONFIG_INVALID` naming the key, the value and the accepted forms.
 */
export function parseStartupDelay(value: unknown, key = 'simulator.startupDelay'): StartupDelay {
  const fail = (): never => {
    throw new EbbtideError('CONFIG_INVALID', `${key}: expected ${EXPECTED}, got ${JSON.stringify(value)}`, { key });
  };
  if (typeof value === 'object' && value !== null && 'kind' in value) {
    const d = value as StartupDelay;
    const ok =
      (d.kind === 'fixed' && parseDuration(d.seconds) !== undefined) ||
      (d.kind === 'uniform' && parseDuration(d.min) !== undefined && parseDuration(d.max) !== undefined && d.min <= d.max) ||
      (d.kind === 'exponential' && parseDuration(d.mean) !== undefined);
    return ok ? d : fail();
  }
  if (typeof value === 'number') {
    const seconds = parseDuration(value);
    return seconds === undefined ? fail() : { kind: 'fixed', seconds };
  }
  if (typeof value !== 'string') return fail();
  const parts = value.trim().split(':');
  if (parts.length === 1) {
    const seconds = parseDuration(parts[0]);
    return seconds === undefined ? fail() : { kind: 'fixed', seconds };
  }
  if (parts[0] === 'uniform' && parts.length === 3) {
    const min = parseDuration(parts[1]);
    const max = parseDuration(parts[2]);
    return min === undefined || max === undefined || min > max ? fail() : { kind: 'uniform', min, max };
  }
  if ((parts[0] === 'exp' || parts[0] === 'exponential') && parts.length === 2) {
    const mean = parseDuration(parts[1]);
    return mean === undefined ? fail() : { kind: 'exponential', mean };
  }
  return fail();
}

/** The canonical text of a startup delay (`"5s"`, `"uniform:2s:10s"`, `"exp:5s"`). */
export function formatStartupDelay(d: StartupDelay): string {
  switch (d.kind) {
    case 'fixed':
      return `${d.seconds}s`;
    case 'uniform':
      return `uniform:${d.min}s:${d.max}s`;
    case 'exponential':
      return `exp:${d.mean}s`;
  }
}

/** One startup delay in seconds; fixed delays draw nothing from `random`. */
export function drawStartupDelay(d: StartupDelay, random: Random): number {
  switch (d.kind) {
    case 'fixed':
      return d.seconds;
    case 'uniform':
      return random.uniform(d.min, d.max);
    case 'exponential':
      return random.exponential(d.mean);
  }
}
