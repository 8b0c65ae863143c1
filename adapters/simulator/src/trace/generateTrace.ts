import { EbbtideError } from '@ebbtide/core';
import { Random } from '../random/Random.js';
import type { Trace, TraceTask } from './Trace.js';

/** The workload shapes `generateTrace` knows. */
export type TraceProfile = 'interactive' | 'batch';

export const TRACE_PROFILES: readonly TraceProfile[] = ['interactive', 'batch'];

export interface GenerateTraceOptions {
  /** PRNG seed; the same seed gives the same trace. Default 1. */
  seed?: number;
  /** Seconds of workload. Default 86,400 (one day). */
  duration?: number;
  /**
   * Time of day (seconds after midnight) at which the trace begins; it shapes the interactive
   * profile's working day. Default 0 (midnight).
   */
  startTime?: number;
}

const DAY = 86_400;
const HOUR = 3_600;

/** Rounds to the millisecond: keeps traces compact in JSON and free of float noise. */
function ms(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * A synthetic workload, pure and seeded.
 *
 * - `interactive` ("interactive analyst"): a working day. Bursts of tens to thousands of tasks
 *   (1–3 stages, each one prefix from a pool of 15 with a typical duration between 0.1 and 5 s,
 *   per-task durations log-normal, clamped to 0.1–30 s) separated by idle gaps of minutes
 *   (mean 3 min from 08:30 to 18:30, 20 min at lunch, 30 min in the evening, 2 h at night).
 *   The last stage's results are held 1–30 min in 40 % of the bursts; the rest are released at
 *   once. A day holds roughly 50k–200k tasks.
 * - `batch` ("steady batch"): Poisson arrivals of medium tasks (4 prefixes, typical 5–20 s,
 *   clamped to 1–120 s) at 0.3 tasks/s varying ±50 % over 6 hours; 5 % of results held 1–5 min.
 *
 * @example
 * ```ts
 * const trace = generateTrace('interactive', { seed: 7, duration: 2 * 3600, startTime: 9 * 3600 });
 * ```
 * @throws EbbtideError `INPUT_INVALID` for an unknown profile or a bad duration.
 */
export function generateTrace(profile: TraceProfile, options: GenerateTraceOptions = {}): Trace {
  const seed = options.seed ?? 1;
  const duration = options.duration ?? DAY;
  const startTime = options.startTime ?? 0;
  if (!(Number.isFinite(duration) && duration > 0)) {
    throw new EbbtideError('INPUT_INVALID', `generateTrace: duration must be a number of seconds > 0, got ${duration}`);
  }
  if (!(Number.isFinite(startTime) && startTime >= 0)) {
    throw new EbbtideError('INPUT_INVALID', `generateTrace: startTime must be a number of seconds >= 0, got ${startTime}`);
  }
  const random = new Random(seed);
  let tasks: TraceTask[];
  if (profile === 'interactive') tasks = interactiveTasks(random, duration, startTime);
  else if (profile === 'batch') tasks = batchTasks(random, duration);
  else {
    throw new EbbtideError('INPUT_INVALID', `generateTrace: unknown profile ${JSON.stringify(profile)}; expected one of ${TRACE_PROFILES.join(', ')}`);
  }
  // Stable sort: equal times keep generation order, so the output depends on the seed only.
  tasks.sort((a, b) => a.t - b.t);
  return { version: 1, name: `${profile}-seed${seed}-${duration}s`, tasks };
}

const INTERACTIVE_PREFIXES = [
  'read-csv',
  'read-parquet',
  'clean',
  'merge',
  'groupby',
  'aggregate',
  'fit',
  'predict',
  'plot',
  'sum',
  'mean',
  'apply',
  'rolling',
  'transform',
  'score',
];

/** Mean idle gap (s) before the next burst, by hour of day: the shape of a working day. */
function meanGap(secondOfDay: number): number {
  const h = secondOfDay / HOUR;
  if (h >= 8.5 && h < 12) return 3 * 60;
  if (h >= 12 && h < 13) return 20 * 60;
  if (h >= 13 && h < 18.5) return 3 * 60;
  if (h >= 18.5 && h < 22) return 30 * 60;
  return 2 * HOUR;
}

function interactiveTasks(random: Random, duration: number, startTime: number): TraceTask[] {
  // Each prefix has a typical duration and result size, as the same functions recur all day.
  const typical = INTERACTIVE_PREFIXES.map((name) => ({
    name,
    median: random.logUniform(0.1, 5),
    nbytes: random.logUniform(1e4, 5e7),
  }));
  const tasks: TraceTask[] = [];
  let burst = 0;
  let t = random.exponential(meanGap(startTime % DAY));
  while (t < duration) {
    const n = Math.round(random.logUniform(20, 3000));
    const stages = random.int(1, 3);
    const held = random.chance(0.4);
    const holdBase = random.logUniform(60, 1800);
    let offset = 0;
    let end = t;
    let left = n;
    for (let s = 0; s < stages; s++) {
      const p = random.pick(typical);
      const count = s === stages - 1 ? left : Math.max(1, Math.round(left * random.uniform(0.3, 0.7)));
      left -= count;
      const spread = random.uniform(0, 3);
      const last = s === stages - 1;
      for (let i = 0; i < count; i++) {
        const submit = t + offset + random.uniform(0, spread);
        if (submit >= duration) continue;
        tasks.push({
          t: ms(submit),
          key: `${p.name}-${burst}-${s}-${i}`,
          prefix: p.name,
          duration: ms(Math.min(30, Math.max(0.1, random.logNormal(p.median, 0.6)))),
          nbytes: Math.round(p.nbytes * random.uniform(0.5, 1.5)),
          holdFor: last && held ? ms(holdBase * random.uniform(0.9, 1.1)) : 0,
        });
      }
      end = Math.max(end, t + offset + spread);
      // Without dependencies in the model, the next stage arrives about when this one would be done.
      offset += spread + p.median * random.uniform(1, 3);
    }
    burst++;
    t = end + random.exponential(meanGap((startTime + end) % DAY));
  }
  return tasks;
}

const BATCH_PREFIXES = [
  { name: 'etl', median: 5 },
  { name: 'transform', median: 10 },
  { name: 'score', median: 20 },
  { name: 'export', median: 8 },
];

function batchTasks(random: Random, duration: number): TraceTask[] {
  const base = 0.3;
  const rate = (t: number) => base * (1 + 0.5 * Math.sin((2 * Math.PI * t) / (6 * HOUR)));
  const maxRate = base * 1.5;
  const tasks: TraceTask[] = [];
  let i = 0;
  // Non-homogeneous Poisson process by thinning: candidates at maxRate, kept with rate/maxRate.
  for (let t = random.exponential(1 / maxRate); t < duration; t += random.exponential(1 / maxRate)) {
    if (!random.chance(rate(t) / maxRate)) continue;
    const p = random.pick(BATCH_PREFIXES);
    tasks.push({
      t: ms(t),
      key: `${p.name}-${i++}`,
      prefix: p.name,
      duration: ms(Math.min(120, Math.max(1, random.logNormal(p.median, 0.4)))),
      nbytes: Math.round(random.logUniform(1e5, 1e7)),
      holdFor: random.chance(0.05) ? ms(random.uniform(60, 300)) : 0,
    });
  }
  return tasks;
}
