import type { GuardEffect } from '../DecisionRecord.js';
import type { DirectionRules, TimedValue } from './GuardRails.js';

export interface StabilizeResult {
  value: number;
  /** Set when the window changed the recommendation. */
  effect?: GuardEffect;
  /** The recommendations to remember: this one added, those older than both windows dropped. */
  recommendations: TimedValue[];
}

/**
 * The HPA's stabilisation (`stabilizeRecommendationWithBehaviors`): a scale-down goes no lower
 * than the highest recommendation of the last `scaleDown.stabilizationWindow` seconds, a
 * scale-up no higher than the lowest of the last `scaleUp.stabilizationWindow` seconds, and
 * neither crosses `current`. The raw recommendation `desired` (this tick's) joins the window.
 * A recommendation counts while it is younger than the window (strictly after `time - window`).
 *
 * Pure: the remembered recommendations come in and go out.
 */
export function stabilize(
  desired: number,
  current: number,
  time: number,
  up: DirectionRules,
  down: DirectionRules,
  recommendations: readonly TimedValue[],
  pool?: string,
): StabilizeResult {
  let upBound = desired;
  let downBound = desired;
  for (const r of recommendations) {
    if (r.time > time - up.stabilizationWindow) upBound = Math.min(upBound, r.value);
    if (r.time > time - down.stabilizationWindow) downBound = Math.max(downBound, r.value);
  }
  let value = current;
  if (value < upBound) value = upBound;
  if (value > downBound) value = downBound;
  const keepFrom = time - Math.max(up.stabilizationWindow, down.stabilizationWindow);
  const kept = recommendations.filter((r) => r.time > keepFrom);
  kept.push({ time, value: desired });
  const result: StabilizeResult = { value, recommendations: kept };
  if (value !== desired) {
    const where = pool ? { pool } : {};
    result.effect =
      desired < current
        ? {
            guard: 'scaleDown.stabilizationWindow',
            effect: `held by stabilizationWindow ${down.stabilizationWindow}s: highest recent ${downBound}`,
            ...where,
            from: desired,
            to: value,
          }
        : {
            guard: 'scaleUp.stabilizationWindow',
            effect: `held by stabilizationWindow ${up.stabilizationWindow}s: lowest recent ${upBound}`,
            ...where,
            from: desired,
            to: value,
          };
  }
  return result;
}
