/**
 * Small tasks for demos, benchmarks and tests, runnable by any `ebbtide-worker`. Import this
 * module as `@ebbtide/scheduler-embedded/tasks`; build `module#export` strings for them with
 * `builtinTask('inc')` from the package's main entry.
 *
 * Every export returns JSON-serialisable data (results travel as JSON).
 */

import { setTimeout as delay } from 'node:timers/promises';

/** Does nothing; returns null. */
export function noop(): null {
  return null;
}

/** Waits `ms` milliseconds without using the CPU, then returns `ms`. */
export async function sleep(ms: number): Promise<number> {
  await delay(ms);
  return ms;
}

/** `x + 1`. */
export function inc(x: number): number {
  return x + 1;
}

/** `a + b`. */
export function add(a: number, b: number): number {
  return a + b;
}

/** Sum of a list of numbers. */
export function sum(list: number[]): number {
  let total = 0;
  for (const x of list) total += x;
  return total;
}

/**
 * Keeps one CPU busy for `ms` milliseconds (a busy loop), then returns the loop count. Used to
 * show that CPU-bound tasks do not stop a worker's heartbeats.
 */
export function burn(ms: number): number {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  return spins;
}

/** A string result whose JSON is exactly `nbytes` bytes (at least 2, for the quotes). */
export function blob(nbytes: number): string {
  return 'x'.repeat(Math.max(0, Math.floor(nbytes) - 2));
}

/** Throws an `Error` with `message`; for testing error paths. */
export function fail(message = 'task failed on purpose'): never {
  throw new Error(message);
}
