import type { SchedulerSnapshot } from './SchedulerSnapshot.js';

/**
 * What the core tells every heuristic besides the snapshot: the bounds its target will be
 * clamped to (a heuristic may use them, e.g. to explain itself; it need not clamp). A
 * heuristic's own settings come from its plugin's options (`PLUGIN_OPTIONS`), not from here.
 */
export interface HeuristicContext {
  readonly minimum: number;
  readonly maximum: number;
  /**
   * Seconds the queued and running work should take, when the user set it at run time (Dask's
   * `cluster.adapt(target_duration=...)`, `POST /api/adapt {"targetDuration"}`): a heuristic that
   * sizes by a target duration uses it instead of its configured one. Unset otherwise.
   */
  readonly targetDuration?: number;
}

/** Structured "why" of a target: numbers the heuristic used, keyed by name. */
export type Explanation = Record<string, unknown>;

export interface HeuristicResult {
  /** Workers wanted now, before clamping to [minimum, maximum]. A whole number >= 0. */
  target: number;
  explanation: Explanation;
  /**
   * Units of each resource the work needs now (`{ GPU: 3 }`), for pools that offer resources.
   * Optional: without it the core estimates it from the snapshot's `resources` the way Dask
   * estimates CPU (docs/pools.md, "resource-aware demand").
   */
  demand?: Record<string, number>;
}

/**
 * Decides how many workers the work needs now.
 *
 * Guarantees expected from an implementation (checked by `describeHeuristic` in
 * `@ebbtide/core/testing`): pure (no I/O, no clock, no randomness; the same snapshot and context
 * give the same result, and the snapshot is not modified) and synchronous, so it runs unchanged
 * in virtual time; the target is a whole number >= 0.
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
