/**
 * The guard rails of one scaling target (the cluster's, from `adaptive.*`, or one pool's), after
 * the Kubernetes HPA `behavior` field and KEDA: see docs/guard-rails.md. Every default is a
 * no-op, so a config without guard rails scales exactly as Dask does.
 */

/** HPA's `HPAScalingPolicy`: at most `value` workers (or `value`% of the workers) per `period`. */
export interface ScalingPolicy {
  type: 'workers' | 'percent';
  /** > 0. */
  value: number;
  /** Seconds, > 0: how far back the changes count. */
  period: number;
}

/** How several policies combine (HPA's `selectPolicy`): the most change, the least, or none at all. */
export type SelectPolicy = 'max' | 'min' | 'disabled';

/** The rules of one direction (HPA's `HPAScalingRules`, plus a cooldown). */
export interface DirectionRules {
  /**
   * Seconds of past recommendations considered (HPA's `stabilizationWindowSeconds`): a scale-down
   * goes no lower than the highest recommendation in the window, a scale-up no higher than the
   * lowest. 0 = none.
   */
  stabilizationWindow: number;
  /** Empty = no rate limit. */
  policies: ScalingPolicy[];
  selectPolicy: SelectPolicy;
  /** Seconds after the last change (either way) during which this direction holds. 0 = none. */
  cooldown: number;
}

/** What to do while the scheduler cannot be read (KEDA's `fallback`). */
export interface BlindRule {
  /** `hold`: change nothing (the default). `scale-to`: grow to `workers` (never shrink a cluster it cannot see). */
  policy: 'hold' | 'scale-to';
  workers: number;
  /** Seconds blind before `scale-to` applies (KEDA's `failureThreshold`, in time). 0 = at once. */
  after: number;
}

/**
 * A cron window (KEDA's cron scaler): from each time `cron` fires, for `duration` seconds, the
 * bounds are at least `minimum` and at most `maximum`, in `timezone` (IANA; default UTC).
 */
export interface ScheduleEntry {
  cron: string;
  /** Seconds, > 0. */
  duration: number;
  minimum?: number;
  maximum?: number;
  timezone: string;
}

export interface GuardRails {
  scaleUp: DirectionRules;
  scaleDown: DirectionRules;
  blind: BlindRule;
  schedule: ScheduleEntry[];
}

/** One direction with no rule at all. */
export const NO_DIRECTION_RULES: DirectionRules = Object.freeze({ stabilizationWindow: 0, policies: [], selectPolicy: 'max', cooldown: 0 }) as DirectionRules;

/** Guard rails that change nothing (Dask's behaviour). */
export const NO_GUARD_RAILS: GuardRails = Object.freeze({
  scaleUp: NO_DIRECTION_RULES,
  scaleDown: NO_DIRECTION_RULES,
  blind: Object.freeze({ policy: 'hold', workers: 0, after: 0 }) as BlindRule,
  schedule: [],
}) as GuardRails;

/** True when the rails can change a target (anything but the no-op defaults). */
export function hasGuardRails(g: GuardRails): boolean {
  const active = (d: DirectionRules) => d.stabilizationWindow > 0 || d.policies.length > 0 || d.selectPolicy === 'disabled' || d.cooldown > 0;
  return active(g.scaleUp) || active(g.scaleDown) || g.blind.policy !== 'hold' || g.schedule.length > 0;
}

/** A past recommendation (for stabilisation) or a change made (for policies and cooldown). */
export interface TimedValue {
  /** Clock seconds. */
  time: number;
  value: number;
}

/**
 * What the guard rails of one target remember between ticks: recent recommendations and the
 * changes made (positive up, negative down). Plain data; the pure functions return a new one.
 */
export interface GuardState {
  recommendations: readonly TimedValue[];
  changes: readonly TimedValue[];
}

export const EMPTY_GUARD_STATE: GuardState = Object.freeze({ recommendations: [], changes: [] }) as GuardState;
