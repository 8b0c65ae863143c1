export interface ClampResult {
  safeTarget: number;
  /** The bound that changed the target, if any. */
  cappedBy?: 'minimum' | 'maximum';
}

/**
 * Dask's `safe_target`: cap at `maximum`, then raise to `minimum` (in that order, so minimum
 * would win if it exceeded maximum; the config rejects that case).
 */
export function clampTarget(target: number, minimum: number, maximum: number): ClampResult {
  let safeTarget = target;
  let cappedBy: ClampResult['cappedBy'];
  if (safeTarget > maximum) {
    safeTarget = maximum;
    cappedBy = 'maximum';
  }
  if (safeTarget < minimum) {
    safeTarget = minimum;
    cappedBy = 'minimum';
  }
  return cappedBy ? { safeTarget, cappedBy } : { safeTarget };
}
