import { expect } from 'chai';
import { type ComponentView, indexOf, liveIndices, planAddition, planRemoval } from '../src/instanceNames.js';

const view = (count: number, decommissioned: number[] = []): ComponentView => ({ count, decommissioned: new Set(decommissioned) });

/** YARN's own rule (hadoop-yarn-services-core Component): replayed to check the plans against it. */
class YarnComponent {
  counter = 0;
  live: number[] = [];
  readonly decommissioned = new Set<number>();
  flexUp(n: number): void {
    for (let k = 0; k < n; k++) {
      let id = this.counter++;
      while (this.decommissioned.has(id)) id = this.counter++;
      this.live.push(id);
    }
  }
  flexTo(count: number): void {
    if (count > this.live.length) return this.flexUp(count - this.live.length);
    this.live.sort((a, b) => b - a);
    while (this.live.length > count) {
      this.live.shift();
      this.counter--;
    }
  }
  decommission(ids: number[]): void {
    for (const i of ids) {
      this.decommissioned.add(i);
      this.live = this.live.filter((x) => x !== i);
    }
  }
  get view(): ComponentView {
    return view(this.live.length, [...this.decommissioned]);
  }
}

describe('YARN instance names', () => {
  it('parses only {component}-{number}', () => {
    expect(indexOf('c', 'c-12')).to.equal(12);
    expect(indexOf('c', 'c-012')).to.equal(undefined);
    expect(indexOf('c', 'c-gpu-1')).to.equal(undefined);
    expect(indexOf('c', 'd-1')).to.equal(undefined);
  });

  it('live instances are the first N indices not decommissioned', () => {
    expect(liveIndices(view(3, [0, 2]))).to.deep.equal([1, 3, 4]);
  });

  it('removes the newest by flex down and the others by decommission', () => {
    const p = planRemoval(view(5), [1, 3, 4]);
    expect(p).to.deep.equal({ decommission: [1], flexDown: 2, count: 2 });
  });

  it('never flexes down across a decommissioned name (the counter would go wrong)', () => {
    // live 0 and 2, 1 decommissioned, 3 decommissioned: removing 2 must be a decommission.
    const p = planRemoval(view(2, [1, 3]), [2]);
    expect(p).to.deep.equal({ decommission: [2], flexDown: 0, count: 1 });
  });

  it('skips unwanted free names below a wanted one, and refuses decommissioned names', () => {
    const p = planAddition(view(2, [0]), [5, 6, 0]);
    expect(p.skip).to.deep.equal([3, 4]);
    expect(p.created).to.deep.equal([5, 6]);
    expect(p.impossible).to.deep.equal([0]);
    expect(p.count).to.equal(4);
  });

  it('replayed against YARN\'s rule with the core\'s counter, YARN creates exactly the names asked for and none is ever impossible', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const yarn = new YarnComponent();
    const wanted = new Set<number>();
    let next = 0;
    for (let step = 0; step < 400; step++) {
      if (rand(2) === 0 || wanted.size === 0) {
        // The core's rule: the lowest free number at or above its counter (reusing its latest).
        const add: number[] = [];
        for (let k = 1 + rand(3); k > 0; k--) {
          while (wanted.has(next)) next++;
          add.push(next);
          wanted.add(next);
        }
        const plan = planAddition(yarn.view, wanted);
        expect(plan.impossible).to.deep.equal([]);
        yarn.decommission(plan.skip);
        yarn.flexTo(plan.count);
      } else {
        const all = [...wanted];
        const drop = all.filter(() => rand(3) === 0);
        const plan = planRemoval(yarn.view, drop);
        yarn.decommission(plan.decommission);
        yarn.flexTo(plan.count);
        for (const d of drop) wanted.delete(d);
      }
      expect([...yarn.live].sort((a, b) => a - b), `step ${step}`).to.deep.equal([...wanted].sort((a, b) => a - b));
      expect(liveIndices(yarn.view)).to.deep.equal([...wanted].sort((a, b) => a - b));
    }
  });
});
