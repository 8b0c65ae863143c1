import { expect } from 'chai';
import { RecentCache } from '../src/util/RecentCache.js';

describe('RecentCache', () => {
  it('keeps the last few keys, a read making a key the most recent', () => {
    const c = new RecentCache<object, number>(2);
    const [a, b, d] = [{}, {}, {}];
    c.set(a, 1);
    c.set(b, 2);
    expect(c.get(a)).to.equal(1);
    // b is now the least recent: it goes first.
    c.set(d, 3);
    expect(c.get(b)).to.equal(undefined);
    expect(c.get(a)).to.equal(1);
    expect(c.get(d)).to.equal(3);
    // Setting a key again replaces its value without taking a second place.
    c.set(a, 10);
    c.set(d, 30);
    expect(c.get(a)).to.equal(10);
    expect(c.get(d)).to.equal(30);
  });
});
