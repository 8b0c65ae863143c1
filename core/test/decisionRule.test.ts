import { expect } from 'chai';
import { decisionRule } from '../src/decide/decisionRule.js';
import type { DecisionRecord } from '../src/DecisionRecord.js';

const record = (over: Partial<DecisionRecord>): DecisionRecord => ({
  target: 3,
  safeTarget: 3,
  workersToClose: [],
  recommendation: { status: 'same' },
  closeCounts: {},
  explanation: {},
  inputs: { workers: 3, plan: 1, requested: 1, tasksQueued: 0, tasksUnrunnable: 0, tasksProcessing: 0 },
  ...over,
});

describe('decisionRule', () => {
  it('a scale-up after a restart is not labelled with the heuristic\'s scale-down rule', () => {
    const r = record({ recommendation: { status: 'up', n: 3 }, explanation: { rule: 'scale-down: keep every worker that is busy or needed for memory' } });
    expect(decisionRule(r)).to.equal('scale-up: the plan (1) is below the target (3)');
  });
  it('keeps the heuristic\'s rule when it agrees with the direction', () => {
    expect(decisionRule(record({ recommendation: { status: 'up', n: 3 }, explanation: { rule: 'scale-up' } }))).to.equal('scale-up');
    expect(decisionRule(record({ recommendation: { status: 'down', workers: ['a'] }, explanation: { rule: 'scale-down: idle' } }))).to.equal('scale-down: idle');
  });
  it('says when the minimum raised the target', () => {
    const r = record({ target: 0, safeTarget: 2, recommendation: { status: 'up', n: 2 }, explanation: { rule: 'steady', bounds: { cappedBy: 'minimum' } } });
    expect(decisionRule(r)).to.equal('scale-up: the plan (1) is below the target (2, raised to the minimum)');
  });
  it('a scale-down whose heuristic said scale-up names the plan and the cap', () => {
    const r = record({ safeTarget: 2, recommendation: { status: 'down', workers: ['a'] }, inputs: { workers: 3, plan: 3, requested: 3, tasksQueued: 0, tasksUnrunnable: 0, tasksProcessing: 0 }, explanation: { rule: 'scale-up', bounds: { cappedBy: 'maximum' } } });
    expect(decisionRule(r)).to.equal('scale-down: the plan (3) is above the target (2, capped by maximum)');
  });
  it('a manual decision says scale(n) in the direction it moves', () => {
    const up = record({ mode: 'manual', target: 2, safeTarget: 2, recommendation: { status: 'up', n: 2 }, explanation: { rule: 'manual: scale(2) holds the cluster at 2 worker(s)' } });
    expect(decisionRule(up)).to.equal('manual: scale(2) asks for more workers (the plan is 1)');
    const down = record({ mode: 'manual', target: 0, safeTarget: 0, recommendation: { status: 'down', workers: ['a'] }, explanation: { rule: 'manual: scale(0) holds the cluster at 0 worker(s)' } });
    expect(decisionRule(down)).to.equal('manual: scale(0) asks for fewer workers (the plan is 1)');
    expect(decisionRule(record({ mode: 'manual', explanation: { rule: 'manual: scale(3) holds the cluster at 3 worker(s)' } }))).to.equal('manual: scale(3) holds the cluster at 3 worker(s)');
  });
});
