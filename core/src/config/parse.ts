/** Pure parsers for the value formats shared by every config section. */

const DURATION_UNITS: Record<string, number> = {
  us: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

const DURATION_RE = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|m|h|d)?\s*$/;

/**
 * The longest duration accepted: 24 days. Timers (JavaScript's and RxJS's) hold at most
 * 2^31 - 1 ms (24.8 days); a longer delay silently fires after 1 ms instead.
 */
export const MAX_DURATION_SECONDS = 24 * 86400;
export const MAX_DURATION_TEXT = '24d';

/**
 * Seconds for a duration: a number of seconds, or a string such as `"250ms"`, `"2s"`, `"1.5m"`,
 * `"2h"`, `"1d"`. Returns `undefined` when the value is not a duration or is above 24 days.
 */
export function parseDuration(value: unknown): number | undefined {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string') {
    const m = DURATION_RE.exec(value);
    if (!m) return undefined;
    seconds = Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
  } else return undefined;
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_DURATION_SECONDS ? seconds : undefined;
}

/**
 * The one way durations are printed (config listings, docs, logs, CLI output): the largest unit
 * that keeps the number short, e.g. `1s`, `250ms`, `1.5m`, `2h`; parseDuration reads it back.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds === 0) return '0s';
  const units: Array<[string, number]> = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1], ['ms', 1e-3], ['us', 1e-6]];
  for (const [unit, size] of units) {
    const n = seconds / size;
    if (n < 1) continue;
    const shown = Math.round(n * 1000) / 1000;
    if (Math.abs(shown * size - seconds) <= 1e-9 * Math.max(1, seconds)) return `${shown}${unit}`;
  }
  return `${seconds}s`;
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes for a size: a number, or a string such as `"4GB"`, `"512 MiB"`. `undefined` if invalid. */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = (m[2] || 'b').toLowerCase();
  const mult = BYTE_UNITS[unit];
  if (mult === undefined) return undefined;
  return Math.floor(Number(m[1]) * mult);
}

/** A whole number >= 0, or `Infinity` for `"inf"`. `undefined` if invalid. */
export function parseCountOrInf(value: unknown): number | undefined {
  if (value === 'inf' || value === Infinity) return Infinity;
  return parseWholeNumber(value);
}

/**
 * A whole number >= 0 that a count can mean: at most 2^53 - 1, past which numbers lose their
 * units (`1e300` is "integer" to JavaScript). `undefined` if invalid.
 */
export function parseWholeNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A whole number >= 1. `undefined` if invalid. */
export function parsePositiveInteger(value: unknown): number | undefined {
  const n = parseWholeNumber(value);
  return n !== undefined && n >= 1 ? n : undefined;
}
