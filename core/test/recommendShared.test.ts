import { expect } from 'chai';
import { type RecommendInput, recommend } from '../src/decide/recommend.js';

/** The same hysteresis whether the strategy hands out a fresh array or the same frozen one each tick. */
function run(names: () => string[], ticks: number, waitCount: number): Array<ReturnType<typeof recommend>> {
  let closeCounts: Record<string, number> = {};
  const out = [];
  for (let t = 0; t < ticks; t++) {
    const input: RecommendInput = { target: 1, plan: ['a', 'b', 'c', 'd', 'e'], requested: [], observed: [], closeCounts, waitCount, workersToClose: names };
    const r = recommend(input);
    closeCounts = r.closeCounts;
    out.push(r);
  }
  return out;
}

describe('recommend with answers shared between ticks', () => {
  it('a frozen answer handed out again gives the same counters and closings as fresh copies', () => {
    const shared = Object.freeze(['e', 'd', 'c', 'constructor']) as string[];
    const viaShared = run(() => shared, 9, 3);
    const viaFresh = run(() => [...shared], 9, 3);
    expect(JSON.parse(JSON.stringify(viaShared))).to.deep.equal(JSON.parse(JSON.stringify(viaFresh)));
    expect(viaShared[1]!.closeCounts).to.deep.equal({ e: 2, d: 2, c: 2, constructor: 2 });
    expect(viaShared[2]!.recommendation).to.deep.equal({ status: 'down', workers: ['e', 'd', 'c', 'constructor'] });
    // The counters of the same list at the same count are one shared, frozen object.
    expect(viaShared[3]!.closeCounts).to.equal(viaShared[0]!.closeCounts);
    expect(Object.isFrozen(viaShared[0]!.closeCounts)).to.equal(true);
  });

  it('names proposed unevenly count one by one; a frozen answer with a repeated name is still counted once', () => {
    let closeCounts: Record<string, number> = { e: 1 };
    const names = Object.freeze(['e', 'd', 'e']) as string[];
    const r = recommend({ target: 3, plan: ['a', 'b', 'c', 'd', 'e'], requested: [], observed: [], closeCounts, waitCount: 3, workersToClose: () => names });
    expect(r.closeCounts).to.deep.equal({ e: 2, d: 1 });
    expect(r.proposed).to.deep.equal(['e', 'd']);
    closeCounts = r.closeCounts;
    const again = recommend({ target: 3, plan: ['a', 'b', 'c', 'd', 'e'], requested: [], observed: [], closeCounts, waitCount: 3, workersToClose: () => names });
    expect(again.recommendation).to.deep.equal({ status: 'down', workers: ['e'] });
    expect(again.closeCounts).to.deep.equal({ d: 2 });
  });

  it('a frozen answer repeating a name is counted once on every path: all new, all at the same count, and closing', () => {
    const plan = ['a', 'b', 'c', 'd', 'e'];
    const names = Object.freeze(['e', 'd', 'e']) as string[];
    const tick = (closeCounts: Record<string, number>) => recommend({ target: 3, plan, requested: [], observed: [], closeCounts, waitCount: 3, workersToClose: () => names });
    const first = tick({});
    expect(first.closeCounts).to.deep.equal({ e: 1, d: 1 });
    expect(first.proposed).to.deep.equal(['e', 'd']);
    const second = tick(first.closeCounts);
    expect(second.closeCounts).to.deep.equal({ e: 2, d: 2 });
    expect(second.recommendation).to.deep.equal({ status: 'same' });
    expect(tick(second.closeCounts).recommendation).to.deep.equal({ status: 'down', workers: ['e', 'd'] });
    // Only the repeated name closing: it is named once.
    expect(tick({ e: 2 }).recommendation).to.deep.equal({ status: 'down', workers: ['e'] });
  });

  it('requested workers that never arrived come first, and are not counted twice when the strategy names them too', () => {
    const names = Object.freeze(['x', 'e']) as string[];
    const r = recommend({ target: 2, plan: ['a', 'b', 'c', 'x'], requested: ['a', 'x'], isObserved: (n) => n !== 'x', closeCounts: {}, waitCount: 2, workersToClose: () => names });
    expect(r.proposed).to.deep.equal(['x', 'e']);
    expect(r.closeCounts).to.deep.equal({ x: 1, e: 1 });
  });
});
