import { expect } from 'chai';
import { applyGuards, recordChange } from '../../src/pools/applyGuards.js';
import { EMPTY_GUARD_STATE, type GuardRails, type GuardState, NO_DIRECTION_RULES, NO_GUARD_RAILS, type ScalingPolicy } from '../../src/pools/GuardRails.js';

/**
 * The examples of the Kubernetes documentation ("Configurable scaling behavior",
 * docs/concepts/workloads/autoscaling/horizontal-pod-autoscale.md), reproduced with their
 * numbers through the pure guard rails: each step applies what the rails allow and records it,
 * as the adaptive loop does.
 */

const pods = (value: number, period: number): ScalingPolicy => ({ type: 'workers', value, period });
const percent = (value: number, period: number): ScalingPolicy => ({ type: 'percent', value, period });

function rails(o: { up?: Partial<GuardRails['scaleUp']>; down?: Partial<GuardRails['scaleDown']> }): GuardRails {
  return { ...NO_GUARD_RAILS, scaleUp: { ...NO_DIRECTION_RULES, ...o.up }, scaleDown: { ...NO_DIRECTION_RULES, ...o.down } };
}

/** Runs the rails every `every` seconds from `current` towards a constant `desired`; the counts reached. */
function run(r: GuardRails, current: number, desired: number, every: number, steps: number): number[] {
  let state: GuardState = EMPTY_GUARD_STATE;
  const seen: number[] = [];
  for (let i = 0; i < steps; i++) {
    const time = i * every;
    const g = applyGuards({ desired, current, time, rails: r, state });
    state = recordChange(g.state, r, time, g.target - current);
    current = g.target;
    seen.push(current);
  }
  return seen;
}

describe('guard rails: the HPA documentation examples', () => {
  it('scaleDown policies 4 pods/60s and 10%/60s (Max): 80 -> 10 removes 8, then 8 (10% of 72 = 7.2, "rounded up to 8"), the percentage above 40, then 4 at a time', () => {
    const r = rails({ down: { policies: [pods(4, 60), percent(10, 60)] } });
    expect(run(r, 80, 10, 60, 14)).to.deep.equal([72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10]);
  });

  it('a policy holds for its whole period: a tick 15s after removing 8 of 80 removes nothing more', () => {
    const r = rails({ down: { policies: [pods(4, 60), percent(10, 60)] } });
    expect(run(r, 80, 10, 15, 5)).to.deep.equal([72, 72, 72, 72, 64]);
    const g = applyGuards({ desired: 10, current: 72, time: 15, rails: r, state: recordChange(EMPTY_GUARD_STATE, r, 0, -8) });
    expect(g.effects).to.deep.equal([{ guard: 'scaleDown.policies', effect: 'held by scaleDown.policies: 10% per 60s (selectPolicy max)', from: 10, to: 72 }]);
  });

  it('default scale-up (100% or 4 pods per 15s, Max): 1 -> 20 goes 5, 10, 20', () => {
    const r = rails({ up: { policies: [percent(100, 15), pods(4, 15)], selectPolicy: 'max' } });
    expect(run(r, 1, 20, 15, 4)).to.deep.equal([5, 10, 20, 20]);
  });

  it('limit scale down to 10% per minute, and to no more than 5 pods with a second policy and selectPolicy Min', () => {
    expect(run(rails({ down: { policies: [percent(10, 60)] } }), 100, 0, 60, 3)).to.deep.equal([90, 81, 72]);
    const min = rails({ down: { policies: [percent(10, 60), pods(5, 60)], selectPolicy: 'min' } });
    // 10% of 100 is 10, more than 5: at most 5 go. At 30, 10% (3) is the smaller change.
    expect(run(min, 100, 0, 60, 3)).to.deep.equal([95, 90, 85]);
    expect(run(min, 30, 0, 60, 3)).to.deep.equal([27, 24, 21]);
  });

  it('selectPolicy Disabled turns off scaling that way', () => {
    const r = rails({ down: { selectPolicy: 'disabled' } });
    const g = applyGuards({ desired: 2, current: 9, time: 0, rails: r, state: EMPTY_GUARD_STATE });
    expect(g.target).to.equal(9);
    expect(g.effects).to.deep.equal([{ guard: 'scaleDown.selectPolicy', effect: 'held by scaleDown.selectPolicy: disabled', from: 2, to: 9 }]);
    expect(applyGuards({ desired: 12, current: 9, time: 0, rails: r, state: EMPTY_GUARD_STATE }).target).to.equal(12);
  });

  it('scaleDown stabilizationWindowSeconds 300: the highest recommendation of the last 5 minutes is used', () => {
    const r = rails({ down: { stabilizationWindow: 300 } });
    let state: GuardState = EMPTY_GUARD_STATE;
    let current = 12;
    const targets: number[] = [];
    // A load that drops, flickers back up once, then stays low.
    for (const [time, desired] of [[0, 12], [60, 5], [120, 9], [180, 4], [240, 4], [300, 4], [360, 4], [420, 4], [480, 4]] as const) {
      const g = applyGuards({ desired, current, time, rails: r, state });
      state = recordChange(g.state, r, time, g.target - current);
      current = g.target;
      targets.push(g.target);
      if (time === 60) expect(g.effects).to.deep.equal([{ guard: 'scaleDown.stabilizationWindow', effect: 'held by stabilizationWindow 300s: highest recent 12', from: 5, to: 12 }]);
    }
    // 12 leaves the window at 300 (it is 300s old), 9 at 420.
    expect(targets).to.deep.equal([12, 12, 12, 12, 12, 9, 9, 4, 4]);
  });

  it('change the downscale stabilization window to 1 minute', () => {
    const r = rails({ down: { stabilizationWindow: 60 } });
    let state: GuardState = EMPTY_GUARD_STATE;
    const out: number[] = [];
    for (const [time, desired] of [[0, 10], [30, 2], [60, 2], [90, 2]] as const) {
      const g = applyGuards({ desired, current: out.at(-1) ?? 10, time, rails: r, state });
      state = g.state;
      out.push(g.target);
    }
    // The 10 of time 0 leaves the window at 60.
    expect(out).to.deep.equal([10, 10, 2, 2]);
  });

  it('scale-up stabilization uses the lowest recommendation of its window', () => {
    const r = rails({ up: { stabilizationWindow: 120 } });
    let state: GuardState = EMPTY_GUARD_STATE;
    const out: number[] = [];
    for (const [time, desired] of [[0, 3], [60, 10], [120, 10], [180, 10]] as const) {
      const g = applyGuards({ desired, current: out.at(-1) ?? 3, time, rails: r, state });
      state = g.state;
      out.push(g.target);
      if (time === 60) expect(g.effects[0]!.effect).to.equal('held by stabilizationWindow 120s: lowest recent 3');
    }
    // The 3 of time 0 leaves the window at 120.
    expect(out).to.deep.equal([3, 3, 10, 10]);
  });
});

describe('guard rails: cooldown and rules that change nothing', () => {
  it('cooldown holds a direction after the last change, and says until when', () => {
    const r = rails({ down: { cooldown: 300 } });
    const state = recordChange(EMPTY_GUARD_STATE, r, 60, +4);
    const held = applyGuards({ desired: 2, current: 8, time: 200, rails: r, state, pool: 'burst' });
    expect(held.target).to.equal(8);
    expect(held.effects).to.deep.equal([
      { guard: 'scaleDown.cooldown', effect: 'held by scaleDown.cooldown 300s: last change at 00:01:00, down again from 00:06:00', pool: 'burst', from: 2, to: 8 },
    ]);
    // Scale-up has no cooldown here; down is free again 300s after the change.
    expect(applyGuards({ desired: 12, current: 8, time: 200, rails: r, state }).target).to.equal(12);
    expect(applyGuards({ desired: 2, current: 8, time: 360, rails: r, state }).target).to.equal(2);
  });

  it('without rules the desired count passes through and nothing is recorded as an effect', () => {
    for (const [desired, current] of [[0, 5], [9, 1], [3, 3]] as const) {
      const g = applyGuards({ desired, current, time: 10, rails: NO_GUARD_RAILS, state: EMPTY_GUARD_STATE });
      expect(g.target).to.equal(desired);
      expect(g.effects).to.deep.equal([]);
    }
  });

  it('recordChange forgets changes older than every period and cooldown', () => {
    const r = rails({ down: { policies: [pods(1, 60)], cooldown: 30 } });
    let s = recordChange(EMPTY_GUARD_STATE, r, 0, -1);
    s = recordChange(s, r, 50, -1);
    s = recordChange(s, r, 120, -1);
    expect(s.changes).to.deep.equal([{ time: 120, value: -1 }]);
  });
});
