import { expect } from 'chai';
import { clampTarget } from '../src/decide/clampTarget.js';
import { recommend, type RecommendInput } from '../src/decide/recommend.js';

/**
 * A pure re-enactment of spec §1.8's test subclass: scale_up(n) sets plan = requested = 0..n-1,
 * scale_down(ws) removes ws from all three sets, and the default workers_to_close keeps the first
 * `target` observed workers (`list(observed)[target:]`).
 */
class CoreSim {
  plan: string[];
  requested: string[];
  observed: string[];
  closeCounts: Record<string, number> = {};
  log: unknown[] = [];
  constructor(
    workers: string[],
    readonly waitCount: number,
    observed = workers,
  ) {
    this.plan = [...workers];
    this.requested = [...workers];
    this.observed = [...observed];
  }
  input(target: number): RecommendInput {
    return {
      target,
      plan: this.plan,
      requested: this.requested,
      observed: this.observed,
      closeCounts: this.closeCounts,
      waitCount: this.waitCount,
      workersToClose: (t) => this.observed.slice(t),
    };
  }
  recommendations(target: number) {
    const out = recommend(this.input(target));
    this.closeCounts = out.closeCounts;
    return out.recommendation;
  }
  adapt(target: number) {
    const rec = this.recommendations(target);
    if (rec.status !== 'same') this.log.push(rec);
    if (rec.status === 'up') {
      this.plan = this.requested = Array.from({ length: rec.n }, (_, i) => String(i));
    } else if (rec.status === 'down') {
      const drop = new Set(rec.workers);
      this.plan = this.plan.filter((w) => !drop.has(w));
      this.requested = this.requested.filter((w) => !drop.has(w));
      this.observed = this.observed.filter((w) => !drop.has(w));
    }
    return rec;
  }
}

const names = (n: number) => Array.from({ length: n }, (_, i) => String(i));
const sorted = (rec: { status: string; workers?: string[] }) => ({ ...rec, ...(rec.workers ? { workers: [...rec.workers].sort() } : {}) });

describe('recommend (AdaptiveCore.recommendations, spec §1.8)', () => {
  it('C1: 5 workers, wait_count 3, target 2: same, same, down [2,3,4], same', () => {
    const c = new CoreSim(names(5), 3);
    expect(c.recommendations(2)).to.deep.equal({ status: 'same' });
    expect(c.closeCounts).to.deep.equal({ 2: 1, 3: 1, 4: 1 });
    expect(c.recommendations(2)).to.deep.equal({ status: 'same' });
    expect(c.closeCounts).to.deep.equal({ 2: 2, 3: 2, 4: 2 });
    expect(sorted(c.recommendations(2))).to.deep.equal({ status: 'down', workers: ['2', '3', '4'] });
    expect(c.closeCounts).to.deep.equal({});
    // Nothing was actually removed, so counting starts again.
    expect(c.recommendations(2)).to.deep.equal({ status: 'same' });
    expect(c.closeCounts).to.deep.equal({ 2: 1, 3: 1, 4: 1 });
  });

  it('C2: targets 2,2,4,2,2,2 through adapt(): the up-to-plan tick resets the counters', () => {
    const c = new CoreSim(names(4), 3);
    c.adapt(2);
    expect(c.closeCounts).to.deep.equal({ 2: 1, 3: 1 });
    c.adapt(2);
    expect(c.closeCounts).to.deep.equal({ 2: 2, 3: 2 });
    expect(c.adapt(4)).to.deep.equal({ status: 'same' });
    expect(c.closeCounts).to.deep.equal({});
    c.adapt(2);
    expect(c.closeCounts).to.deep.equal({ 2: 1, 3: 1 });
    c.adapt(2);
    expect(c.closeCounts).to.deep.equal({ 2: 2, 3: 2 });
    expect(sorted(c.adapt(2))).to.deep.equal({ status: 'down', workers: ['2', '3'] });
    expect(c.plan).to.deep.equal(['0', '1']);
  });

  it('C3a: one worker never arrived, target 3: down [2] without asking the strategy', () => {
    const c = new CoreSim(names(4), 1, ['0', '1', '3']);
    let asked = false;
    const out = recommend({ ...c.input(3), workersToClose: () => ((asked = true), []) });
    expect(out.recommendation).to.deep.equal({ status: 'down', workers: ['2'] });
    expect(asked).to.equal(false);
  });

  it('C3b: same, target 2: down [2, 3] (not-yet-arrived + default workers_to_close)', () => {
    const c = new CoreSim(names(4), 1, ['0', '1', '3']);
    expect(sorted(c.recommendations(2))).to.deep.equal({ status: 'down', workers: ['2', '3'] });
  });

  it('C3c: 6 planned, 2 observed, target 1: down [1,2,3,4,5]', () => {
    const c = new CoreSim(names(6), 1, ['0', '1']);
    expect(sorted(c.recommendations(1))).to.deep.equal({ status: 'down', workers: ['1', '2', '3', '4', '5'] });
  });

  it('C4: minimum 2, maximum 5 clamps raw 0,1,3,5,9 to 2,2,3,5,5', () => {
    expect([0, 1, 3, 5, 9].map((t) => clampTarget(t, 2, 5).safeTarget)).to.deep.equal([2, 2, 3, 5, 5]);
    expect(clampTarget(9, 2, 5).cappedBy).to.equal('maximum');
    expect(clampTarget(0, 2, 5).cappedBy).to.equal('minimum');
    expect(clampTarget(3, 2, 5).cappedBy).to.equal(undefined);
  });

  it('C5: wait_count 0 closes on the first proposing tick', () => {
    const c = new CoreSim(names(3), 0);
    expect(sorted(c.recommendations(1))).to.deep.equal({ status: 'down', workers: ['1', '2'] });
  });

  it('C6: a same or up tick clears the counters', () => {
    const c = new CoreSim(names(3), 3);
    c.recommendations(1);
    expect(c.closeCounts).to.deep.equal({ 1: 1, 2: 1 });
    expect(c.recommendations(3)).to.deep.equal({ status: 'same' });
    expect(c.closeCounts).to.deep.equal({});
    c.recommendations(1);
    expect(c.recommendations(7)).to.deep.equal({ status: 'up', n: 7 });
    expect(c.closeCounts).to.deep.equal({});
  });

  it('C8: 4 workers, targets 1,2,2: a worker missing one tick loses its count', () => {
    const c = new CoreSim(names(4), 3);
    c.recommendations(1);
    expect(c.closeCounts).to.deep.equal({ 1: 1, 2: 1, 3: 1 });
    c.recommendations(2);
    expect(c.closeCounts).to.deep.equal({ 2: 2, 3: 2 });
    expect(sorted(c.recommendations(2))).to.deep.equal({ status: 'down', workers: ['2', '3'] });
    expect(c.closeCounts).to.deep.equal({});
  });

  it('T1 test_safe_target: minimum 1, maximum 4: 0 -> 1, 10 -> 4', () => {
    expect(clampTarget(0, 1, 4).safeTarget).to.equal(1);
    expect(clampTarget(10, 1, 4).safeTarget).to.equal(4);
  });

  it('T3 test_scale_down: 2 never arrived, wait_count 2, target 2: down after 2 ticks, includes 2', () => {
    const c = new CoreSim(names(4), 2, ['0', '1', '3']);
    expect(c.adapt(2)).to.deep.equal({ status: 'same' });
    const rec = c.adapt(2);
    expect(rec.status).to.equal('down');
    expect((rec as { workers: string[] }).workers).to.have.length(2).and.include('2');
    for (let i = 0; i < 4; i++) c.adapt(2);
    expect(c.log).to.have.length(1);
  });

  it('only the first |plan| - target not-yet-arrived workers are proposed', () => {
    const out = recommend({
      target: 3,
      plan: names(5),
      requested: names(5),
      observed: ['0', '1'],
      closeCounts: {},
      waitCount: 1,
      workersToClose: () => {
        throw new Error('must not be asked');
      },
    });
    expect(out.recommendation).to.deep.equal({ status: 'down', workers: ['2', '3'] });
  });
});
