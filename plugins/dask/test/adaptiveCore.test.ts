// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import { clampTarget } from '@ebbtide/core';
import { CoreHarness, asSet } from './helpers.js';

/*
 * Spec §7.1 (test_adaptive_core.py) and the decision part of §7.2's test_interval: Dask's test
 * subclass of AdaptiveCore replayed on core's pure clampTarget/recommend (see CoreHarness).
 */
describe('AdaptiveCore decisions — spec §7.1', () => {
  describe('T1 test_safe_target (minimum 1, maximum 4)', () => {
    for (const [raw, safe] of [
      [0, 1],
      [10, 4],
    ] as const) {
      it(`T1 test_safe_target: target ${raw} -> safe ${safe}`, () => {
        expect(clampTarget(raw, 1, 4).safeTarget).to.equal(safe);
        expect(new CoreHarness({ minimum: 1, maximum: 4 }).safeTarget(raw)).to.equal(safe);
      });
    }
  });

  it('T2 test_scale_up: min 1, max 4: target 0 -> {up, n: 1}, plan {0}; target 10 -> {up, n: 4}, plan {0,1,2,3}', () => {
    const core = new CoreHarness({ minimum: 1, maximum: 4 });
    core.adapt(0);
    expect(core.log.at(-1)).to.deep.equal({ status: 'up', n: 1 });
    expect(core.plan).to.deep.equal(['0']);
    core.adapt(10);
    expect(core.log.at(-1)).to.deep.equal({ status: 'up', n: 4 });
    expect(core.plan).to.deep.equal(['0', '1', '2', '3']);
  });

  it('T3 test_scale_down: min 1, max 4, wait_count 2: 2 never arrives; target 2 -> down {2, 3} on the 2nd tick, then nothing', () => {
    const core = new CoreHarness({ minimum: 1, maximum: 4, waitCount: 2 });
    core.adapt(10);
    expect(core.log).to.have.length(1);

    core.observed = ['0', '1', '3']; // all but 2 have arrived
    core.adapt(2);
    expect(core.log, 'no change after only one call').to.have.length(1);
    core.adapt(2);
    expect(core.log).to.have.length(2);
    const last = core.log.at(-1)!;
    expect(last.status).to.equal('down');
    if (last.status !== 'down') return;
    expect(last.workers).to.include('2');
    expect(last.workers).to.have.length(2);
    // 2 (not yet arrived) + AdaptiveCore's default workers_to_close: list({0, 1, 3})[2:] = [3].
    expect(asSet(last)).to.deep.equal({ status: 'down', workers: ['2', '3'] });

    const old = [...core.log];
    for (let i = 0; i < 4; i++) core.adapt(2);
    expect(core.log).to.deep.equal(old);
    expect(core.plan).to.deep.equal(['0', '1']);
  });
});

describe('Adaptive decisions — spec §7.2 (decision part only)', () => {
  it('T28 test_interval (and T4, 2022.12): targets 0, 3, 1 are followed; 3 -> 1 takes wait_count = 3 ticks and closes the two never-arrived workers', () => {
    // MyAdaptive: nothing ever connects (observed stays empty); its strategy would be the
    // scheduler's workers_to_close, which must not be needed here.
    const core = new CoreHarness({
      waitCount: 3,
      workersToClose: () => {
        throw new Error('the scheduler should not be asked: the never-arrived workers cover the surplus');
      },
    });
    expect(core.adapt(0)).to.deep.equal({ status: 'same' });
    expect(core.plan).to.have.length(0);

    expect(core.adapt(3)).to.deep.equal({ status: 'up', n: 3 });
    expect(core.plan).to.have.length(3);

    expect(core.adapt(1)).to.deep.equal({ status: 'same' });
    expect(core.adapt(1)).to.deep.equal({ status: 'same' });
    expect(core.plan, 'still 3 before wait_count ticks').to.have.length(3);
    expect(asSet(core.adapt(1))).to.deep.equal({ status: 'down', workers: ['0', '1'] });
    expect(core.plan).to.deep.equal(['2']);
    expect(core.strategyCalls).to.deep.equal([]);
  });
});
