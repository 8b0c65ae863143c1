import type { SchedulerSnapshot } from './SchedulerSnapshot.js';

/** Settings every heuristic may read, derived from the core configuration. */
export interface HeuristicContext {
  /** Seconds the queued and running work should take on the wanted cluster (Dask's target-duration). */
  targetDuration: number;
  /** Seconds assumed for a task of a prefix with no learned duration. */
  unknownTaskDuration: number;
  /** Seconds per prefix used before a duration is learned. */
  defaultTaskDurations: Record<string, number>;
}

/** Structured "why" of a target: numbers the heuristic used, keyed by name. */
export type Explanation = Record<string, unknown>;

export interface HeuristicResult {
  /** Workers wanted now, before clamping to [minimum, maximum]. A whole number >= 0. */
  target: number;
  explanation: Explanation;
}

/**
 * Decides how many workers the work needs now.
 *
 * Guarantees expected from an implementation: pure (no I/O, no clock, no randomness; the same
 * snapshot and context give the same result) and synchronous, so it runs unchanged in virtual time.
 *
 * @example
 * ```ts
 * class FixedHeuristic implements ScalingHeuristic {
 *   target() { return { target: 2, explanation: { rule: 'fixed' } }; }
 * }
 * ```
 */
export interface ScalingHeuristic {
  target(snapshot: SchedulerSnapshot, ctx: HeuristicContext): HeuristicResult;
}
