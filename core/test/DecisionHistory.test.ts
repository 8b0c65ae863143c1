import { expect } from 'chai';
import type { DecisionRecord } from '../src/DecisionRecord.js';
import { DecisionHistory, type HistoryEntry } from '../src/runtime/DecisionHistory.js';

function rec(tick: number | undefined, status: 'same' | 'up' | 'down' = 'same', over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    ...(tick !== undefined ? { tick, time: tick } : {}),
    mode: 'adaptive',
    target: 0,
    safeTarget: 0,
    workersToClose: [],
    recommendation: status === 'up' ? { status, n: 1 } : status === 'down' ? { status, workers: ['w-0'] } : { status },
    closeCounts: {},
    explanation: {},
    outcome: { status: status === 'same' ? 'none' : status === 'up' ? 'scaled-up' : 'scaled-down' },
    ...over,
  };
}

describe('DecisionHistory', () => {
  it('folds a run of quiet same ticks into one entry with a count, keeps every acting tick apart', () => {
    const h = new DecisionHistory(10);
    h.push(rec(1, 'up'));
    for (let t = 2; t <= 6; t++) h.push(rec(t));
    h.push(rec(7, 'down'));
    h.push(rec(8));
    const all = h.since(0);
    expect(all.map((e) => [e.id, e.tick, e.count])).to.deep.equal([
      [1, 1, 1],
      [2, 6, 5],
      [7, 7, 1],
      [8, 8, 1],
    ]);
    expect(all[1]!.firstTime).to.equal(2);
    expect(all[1]!.decision.tick).to.equal(6);
  });

  it('does not fold across a change of mode, of blindness or of a capacity hold, nor a failed tick', () => {
    const h = new DecisionHistory(10);
    h.push(rec(1));
    h.push(rec(2, 'same', { mode: 'manual' }));
    h.push(rec(3, 'same', { mode: 'manual', blind: { since: 3 } }));
    h.push(rec(4, 'same', { mode: 'manual', blind: { since: 3 } }));
    h.push(rec(5, 'same', { mode: 'manual', explanation: { capacity: { until: 9 } } }));
    h.push(rec(6, 'same', { mode: 'manual', explanation: { capacity: { until: 9 } }, outcome: { status: 'failed', error: { message: 'x' } } }));
    expect(h.since(0).map((e) => [e.id, e.count])).to.deep.equal([
      [1, 1],
      [2, 1],
      [3, 2],
      [5, 1],
      [6, 1],
    ]);
  });

  it('since(N) gives the entries whose latest tick is after N — a growing fold comes again, same id', () => {
    const h = new DecisionHistory(10);
    h.push(rec(1, 'up'));
    h.push(rec(2));
    h.push(rec(3));
    expect(h.since(1).map((e) => [e.id, e.tick])).to.deep.equal([[2, 3]]);
    h.push(rec(4));
    expect(h.since(3).map((e) => [e.id, e.tick, e.count])).to.deep.equal([[2, 4, 3]]);
    expect(h.since(4)).to.deep.equal([]);
  });

  it('keeps at most its capacity, dropping the oldest; find() covers the ticks folded into an entry', () => {
    const h = new DecisionHistory(3);
    for (let t = 1; t <= 5; t++) h.push(rec(t, t % 2 ? 'up' : 'down'));
    expect(h.size).to.equal(3);
    expect(h.since(0).map((e) => e.id)).to.deep.equal([3, 4, 5]);
    h.push(rec(6));
    h.push(rec(7));
    expect(h.find(7)!.id).to.equal(6);
    expect(h.find(6)!.tick).to.equal(7);
    expect(h.find(1)).to.equal(undefined);
    expect(h.find(99)).to.equal(undefined);
  });

  it('numbers a record without a tick (the shutdown record) after the last one, and streams every change', () => {
    const h = new DecisionHistory(5);
    const seen: HistoryEntry[] = [];
    h.entries$.subscribe((e) => seen.push(e));
    h.push(rec(1));
    h.push(rec(2));
    h.push(rec(undefined, 'down', { outcome: { status: 'shutdown', reason: 'test' } }));
    expect(seen.map((e) => [e.id, e.tick, e.count])).to.deep.equal([
      [1, 1, 1],
      [1, 2, 2],
      [3, 3, 1],
    ]);
    // Entries are replaced, never changed: the first one seen still says count 1.
    expect(seen[0]!.count).to.equal(1);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new DecisionHistory(0)).to.throw(RangeError);
  });
});
