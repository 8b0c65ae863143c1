import { expect } from 'chai';
import type { HeuristicContext } from '../src/contracts/ScalingHeuristic.js';
import { advance } from '../src/testing/fakes.js';
import { newTestScheduler, setupLoop } from './helpers.js';

/** adapt({interval, waitCount, targetDuration}): Dask's cluster.adapt(interval=, wait_count=, target_duration=). */
describe('Adaptive loop: adapt() changes the interval, waitCount and targetDuration (virtual time)', () => {
  it('a new interval restarts the timer: ticks come at the new period, one at a time', async () => {
    const rx = newTestScheduler();
    const { adaptive, records } = setupLoop(rx);
    adaptive.start();
    await advance(rx, 1000);
    expect(records.map((r) => r.time)).to.deep.equal([1]);
    adaptive.adapt({ interval: 0.25 });
    expect(adaptive.interval).to.equal(0.25);
    await advance(rx, 1000);
    // The adapt tick at 1 s, then every 250 ms from there.
    expect(records.map((r) => r.time)).to.deep.equal([1, 1, 1.25, 1.5, 1.75, 2]);
    adaptive.adapt({ interval: 2 });
    await advance(rx, 3000);
    expect(records.map((r) => r.time).slice(6)).to.deep.equal([2, 4]);
    adaptive.stop('test');
  });

  it('a new waitCount is the count a worker must reach from the next tick on', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic, records, arrive } = setupLoop(rx, { waitCount: 5 });
    heuristic.value = 2;
    adaptive.start();
    await advance(rx, 1000);
    arrive();
    heuristic.value = 1;
    adaptive.adapt({ waitCount: 1 });
    expect(adaptive.waitCount).to.equal(1);
    await advance(rx, 0);
    const r = records.at(-1)!;
    expect(r.waitCount).to.equal(1);
    expect(r.recommendation).to.deep.equal({ status: 'down', workers: ['w-1'] });
    adaptive.stop('test');
  });

  it('a targetDuration reaches the heuristic in its context; unset until adapt gives one', async () => {
    const rx = newTestScheduler();
    const { adaptive, heuristic } = setupLoop(rx);
    const seen: HeuristicContext[] = [];
    const target = heuristic.target.bind(heuristic);
    heuristic.target = (...args: unknown[]) => {
      seen.push(args[1] as HeuristicContext);
      return target();
    };
    adaptive.start();
    await advance(rx, 1000);
    expect(seen.at(-1)).to.deep.equal({ minimum: 0, maximum: Infinity });
    expect(adaptive.targetDuration).to.equal(undefined);
    adaptive.adapt({ targetDuration: 12 });
    await advance(rx, 0);
    expect(seen.at(-1)).to.deep.equal({ minimum: 0, maximum: Infinity, targetDuration: 12 });
    // Later calls that leave it out keep it.
    adaptive.adapt({ maximum: 4 });
    await advance(rx, 0);
    expect(seen.at(-1)).to.deep.equal({ minimum: 0, maximum: 4, targetDuration: 12 });
    adaptive.stop('test');
  });

  it('refuses an interval or targetDuration that is not seconds > 0, or a waitCount that is not a whole number, and then changes nothing', () => {
    const rx = newTestScheduler();
    const { adaptive } = setupLoop(rx);
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => adaptive.adapt({ minimum: 2, maximum: 5, interval: bad }), `interval ${bad}`).to.throw(/^interval: expected a number of seconds > 0/).with.property('code', 'INPUT_INVALID');
      expect(() => adaptive.adapt({ minimum: 2, targetDuration: bad }), `targetDuration ${bad}`).to.throw(/^targetDuration: expected a number of seconds > 0/);
    }
    expect(() => adaptive.adapt({ minimum: 2, waitCount: 1.5 })).to.throw(/^waitCount: expected a whole number >= 0/);
    expect(adaptive.scaling).to.deep.equal({ mode: 'adaptive', minimum: 0, maximum: Infinity });
    expect([adaptive.interval, adaptive.waitCount, adaptive.targetDuration]).to.deep.equal([1, 3, undefined]);
  });
});
