import { expect } from 'chai';
import type { DecisionRecord } from '@ebbtide/core';
import { formatStatus, statusBody } from '../src/commands/formatDecision.js';

const record = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  tick: 7,
  time: 3600 + 5 * 60 + 9,
  target: 2,
  safeTarget: 2,
  workersToClose: [],
  recommendation: { status: 'same' },
  closeCounts: {},
  explanation: {},
  inputs: { workers: 2, plan: 2, requested: 2, tasksQueued: 0, tasksUnrunnable: 0, tasksProcessing: 1 },
  ...over,
});

describe('the status line of ebbtide up', () => {
  it('has a timestamp and the counts', () => {
    expect(formatStatus(record())).to.equal('01:05:09 status workers=2 plan=2 requested=2 queued=0 unrunnable=0 processing=1 target=2');
  });

  it('while the scheduler cannot be read, says so and since when: stale numbers are never shown as current', () => {
    const line = formatStatus(record({ blind: { since: 3600 } }));
    expect(line).to.match(/ blind since 01:00:00 \(scheduler unreachable; numbers are from before\)$/);
    expect(statusBody(record({ blind: { since: 3600 } }))).to.not.equal(statusBody(record()));
  });

  it('says when starts are held for lack of capacity', () => {
    const line = formatStatus(record({ explanation: { capacity: { until: 3700, reason: 'exceeded quota: pods=4' } } }));
    expect(line).to.contain('capacity-limited until 01:01:40: exceeded quota: pods=4');
  });

  it('two records that differ only in time have the same body (up prints only on change)', () => {
    expect(statusBody(record({ time: 1 }))).to.equal(statusBody(record({ time: 99 })));
  });
});
