import { expect } from 'chai';
import { EbbtideError } from '@ebbtide/core';
import { smallestStaticWithin } from '../src/smallestStaticWithin.js';
import { burst, dask, defaults, plugins, traceOf } from './helpers.js';

describe('smallestStaticWithin', () => {
  // 20 tasks of 10 s at t=0.5. A static cluster of s workers scales up on tick 1 (t=1); they
  // connect at t=2, so task k waits 1.5 + 10 x floor(k / s) seconds. The p95 wait (19th of 20)
  // is task 18's: 1.5 s when s >= 19, 11.5 s when 10 <= s <= 18, more below.
  const trace = traceOf(burst(20, 0.5, 'work', { duration: 10 }));
  const options = { trace, ...dask, sim: { startupDelay: '1s' } };

  it('finds the smallest static size whose p95 wait is within 1.2x of the maximum-size cluster', async () => {
    const found = await smallestStaticWithin(options, { maximum: 20 });
    expect(found.reference.size).to.equal(20);
    expect(found.reference.result.metrics.p95Wait).to.equal(1.5);
    // 1.2 x 1.5 = 1.8 s allowed: 18 workers give 11.5 s, 19 give 1.5 s.
    expect(found.size).to.equal(19);
    expect(found.result.metrics.p95Wait).to.equal(1.5);
    expect(found.result.settings).to.deep.include({ minimum: 19, maximum: 19 });
    const p95 = new Map(found.tried.map((t) => [t.size, t.p95Wait]));
    expect(p95.get(18)).to.equal(11.5);
    // Binary search over 1..20: a handful of runs, not twenty.
    expect(found.tried.length).to.be.at.most(7);
  });

  it('with a larger factor, a smaller cluster is enough', async () => {
    // 10 x 1.5 = 15 s allowed: 10 workers (11.5 s) pass, 9 (21.5 s) do not.
    const found = await smallestStaticWithin(options, { maximum: 20, factor: 10 });
    expect(found.size).to.equal(10);
    expect(new Map(found.tried.map((t) => [t.size, t.p95Wait])).get(9)).to.equal(21.5);
  });

  it('without a maximum, sizes up to the adaptive run\'s peak when adaptive.maximum is inf', async () => {
    const found = await smallestStaticWithin(options);
    expect(found.adaptive).to.not.equal(undefined);
    expect(found.reference.size).to.equal(found.adaptive!.metrics.peakWorkers);
    expect(found.result.metrics.p95Wait).to.be.at.most(1.2 * found.reference.result.metrics.p95Wait);
  });

  it('rejects a factor below 1', async () => {
    let err: unknown;
    try {
      await smallestStaticWithin(options, { factor: 0.5, maximum: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(EbbtideError).with.property('code', 'INPUT_INVALID');
  });
});
