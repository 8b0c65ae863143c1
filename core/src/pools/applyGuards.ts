import type { GuardEffect } from '../DecisionRecord.js';
import { formatClock } from './formatClock.js';
import type { GuardRails, GuardState, TimedValue } from './GuardRails.js';
import { rateLimit } from './ratePolicies.js';
import { stabilize } from './stabilize.js';

export interface GuardInput {
  /** The recommendation before the rails (already within the bounds). */
  desired: number;
  /** Workers there are now (the plan). */
  current: number;
  /** Clock seconds. */
  time: number;
  rails: GuardRails;
  state: GuardState;
  /** Named in each effect; absent for the cluster's own rails. */
  pool?: string;
}

export interface GuardOutput {
  target: number;
  /** Each rail that changed the number, in the order they applied. */
  effects: GuardEffect[];
  state: GuardState;
}

/**
 * One target through its guard rails, in the HPA's order: the stabilisation window, then (ours)
 * the cooldown, then the rate policies. Every rail that changed the number says so.
 *
 * Pure: the state comes in and goes out; `recordChange` adds what was then done.
 */
export function applyGuards(input: GuardInput): GuardOutput {
  const { current, time, rails, pool } = input;
  const effects: GuardEffect[] = [];
  const s = stabilize(input.desired, current, time, rails.scaleUp, rails.scaleDown, input.state.recommendations, pool);
  if (s.effect) effects.push(s.effect);
  let value = s.value;

  if (value !== current) {
    const key = value > current ? 'scaleUp' : 'scaleDown';
    const cooldown = rails[key].cooldown;
    const last = input.state.changes.at(-1);
    if (cooldown > 0 && last && time - last.time < cooldown) {
      effects.push({
        guard: `${key}.cooldown`,
        effect: `held by ${key}.cooldown ${cooldown}s: last change at ${formatClock(last.time)}, ${key === 'scaleUp' ? 'up' : 'down'} again from ${formatClock(last.time + cooldown)}`,
        ...(pool ? { pool } : {}),
        from: value,
        to: current,
      });
      value = current;
    }
  }

  const r = rateLimit(value, current, time, rails, input.state.changes, pool);
  if (r.effect) effects.push(r.effect);
  return { target: r.value, effects, state: { recommendations: s.recommendations, changes: input.state.changes } };
}

/**
 * Remembers a change made at `time` (`change` workers, positive up, negative down), for the
 * policies' periods and the cooldowns; drops changes older than every period and cooldown.
 */
export function recordChange(state: GuardState, rails: GuardRails, time: number, change: number): GuardState {
  if (change === 0) return state;
  const horizon = Math.max(rails.scaleUp.cooldown, rails.scaleDown.cooldown, ...rails.scaleUp.policies.map((p) => p.period), ...rails.scaleDown.policies.map((p) => p.period));
  const changes: TimedValue[] = state.changes.filter((c) => c.time > time - horizon);
  changes.push({ time, value: change });
  return { recommendations: state.recommendations, changes };
}
