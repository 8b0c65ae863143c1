import { Cron } from 'croner';
import type { GuardEffect } from '../DecisionRecord.js';
import { EbbtideError } from '../errors.js';
import { formatClock } from './formatClock.js';
import type { ScheduleEntry } from './GuardRails.js';

/** Parsed crons, kept per entry: parsing is the costly part, evaluation is cheap. */
const parsed = new WeakMap<ScheduleEntry, Cron>();

/**
 * Parses a cron expression (five fields: minute hour day-of-month month day-of-week, as in
 * crontab and KEDA's cron scaler) in an IANA time zone, with croner.
 *
 * @throws EbbtideError `CONFIG_INVALID` naming `key` for a bad expression or time zone.
 */
export function parseCron(cron: string, timezone: string, key: string): Cron {
  let c: Cron;
  try {
    c = new Cron(cron, { timezone, mode: '5-part' });
    // Croner checks the time zone only when it converts a date.
    c.nextRun(new Date(0));
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^Cron\w*: /, '') : String(e);
    throw new EbbtideError('CONFIG_INVALID', `${key}: expected a five-field cron expression ("0 9 * * 1-5") and an IANA time zone ("Europe/Berlin"), got ${JSON.stringify(cron)} in ${JSON.stringify(timezone)}: ${why}`, {
      key,
    });
  }
  return c;
}

function cronOf(entry: ScheduleEntry): Cron {
  let c = parsed.get(entry);
  if (!c) {
    c = parseCron(entry.cron, entry.timezone, 'schedule');
    parsed.set(entry, c);
  }
  return c;
}

/**
 * When the window of `entry` that covers `time` ends (clock seconds), or undefined outside every
 * window. A window opens at each time the cron fires and lasts `duration`; the latest firing at
 * or before `time` is the only one that can cover it (later windows end later).
 */
export function activeUntil(entry: ScheduleEntry, time: number): number | undefined {
  const ms = Math.floor(time * 1000);
  // previousRuns is strictly before its reference, to the second: a second on includes a firing
  // at `time`, and may include one just after it (when `time` is a fraction of a second earlier).
  const last = cronOf(entry)
    .previousRuns(2, new Date(ms + 1000))
    .find((d) => d.getTime() <= ms);
  if (!last) return undefined;
  const end = last.getTime() / 1000 + entry.duration;
  return time < end ? end : undefined;
}

export interface ScheduledBounds {
  minimum: number;
  maximum: number;
  /** Each window that changed a bound. */
  effects: GuardEffect[];
}

function describe(entry: ScheduleEntry): string {
  return `"${entry.cron}"${entry.timezone !== 'UTC' ? ` (${entry.timezone})` : ''}`;
}

/**
 * The bounds during the active windows of `schedule`: the highest active floor raises
 * `minimum`, the lowest active ceiling lowers `maximum`; where they cross, the ceiling wins.
 *
 * Pure apart from reading the (immutable) parsed crons.
 */
export function scheduledBounds(schedule: readonly ScheduleEntry[], time: number, minimum: number, maximum: number, pool?: string): ScheduledBounds {
  const effects: GuardEffect[] = [];
  let min = minimum;
  let max = maximum;
  const where = pool ? { pool } : {};
  for (const entry of schedule) {
    const until = activeUntil(entry, time);
    if (until === undefined) continue;
    if (entry.minimum !== undefined && entry.minimum > min) {
      effects.push({ guard: 'schedule', effect: `schedule ${describe(entry)} raises the minimum to ${entry.minimum} until ${formatClock(until)}`, ...where, from: min, to: entry.minimum });
      min = entry.minimum;
    }
    if (entry.maximum !== undefined && entry.maximum < max) {
      effects.push({ guard: 'schedule', effect: `schedule ${describe(entry)} lowers the maximum to ${entry.maximum} until ${formatClock(until)}`, ...where, from: max, to: entry.maximum });
      max = entry.maximum;
    }
  }
  if (min > max) {
    effects.push({ guard: 'schedule', effect: `the scheduled ceiling ${max} wins over the floor ${min}`, ...where, from: min, to: max });
    min = max;
  }
  return { minimum: min, maximum: max, effects };
}
