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
 * Seconds for a duration: a number of seconds, or a string such as `"250ms"`, `"2s"`, `"1.5m"`.
 * Returns `undefined` when the value is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  const unit = m[2] ?? 's';
  return Number(m[1]) * DURATION_UNITS[unit]!;
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
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  return undefined;
}

/** A whole number >= 0. `undefined` if invalid. */
export function parseWholeNumber(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  return undefined;
}

/** A whole number >= 1. `undefined` if invalid. */
export function parsePositiveInteger(value: unknown): number | undefined {
  const n = parseWholeNumber(value);
  return n !== undefined && n >= 1 ? n : undefined;
}
