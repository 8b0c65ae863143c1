import { expect } from 'chai';
import { Kernel } from '@ebbtide/core';
import { simulatorPlugin } from '../src/index.js';
import { parseStartupDelay } from '../src/sim/StartupDelay.js';
import { type SimulateOptions, staticCluster, staticClusterThroughLoop } from '../src/simulate.js';
import { staticDriverApplies } from '../src/staticDriver.js';
import { type TraceProfile, generateTrace } from '../src/trace/generateTrace.js';
import { burst, dask, defaults, plugins, traceOf } from './helpers.js';

const HOUR = 3600;

/**
 * The static baselines skip the adaptive loop (staticDriver.ts); these runs compare them, byte for
 * byte, with the same static cluster driven through the real loop tick by tick.
 */
describe('static clusters without the loop', () => {
  const cases: Array<{ profile: TraceProfile; seed: number; size: number; delay: string; flags?: Record<string, string>; start: number }> = [
    { profile: 'interactive', seed: 2, size: 1, delay: '5s', start: 10 * HOUR },
    { profile: 'interactive', seed: 3, size: 7, delay: 'uniform:2s:20s', flags: { 'cluster.memoryLimit': '2GB' }, start: 9 * HOUR },
    { profile: 'batch', seed: 1, size: 30, delay: 'exp:10s', start: 0 },
    { profile: 'batch', seed: 4, size: 3, delay: '1s', flags: { 'adaptive.interval': '2s' }, start: 0 },
    { profile: 'interactive', seed: 5, size: 12, delay: 'exp:30s', flags: { 'simulator.horizon': '1800' }, start: 9 * HOUR },
  ];
  for (const c of cases) {
    it(`gives the real loop's result: ${c.profile} seed ${c.seed}, ${c.size} workers, startup ${c.delay}${c.flags ? `, ${JSON.stringify(c.flags)}` : ''}`, async () => {
      const trace = generateTrace(c.profile, { seed: c.seed, duration: HOUR, startTime: c.start });
      const options: SimulateOptions = { trace, ...dask, sim: { startupDelay: c.delay, seed: c.seed + 10 }, sources: { flags: c.flags ?? {} } };
      const quick = await staticCluster(options, c.size);
      const loop = await staticClusterThroughLoop(options, c.size);
      expect(JSON.stringify(quick)).to.equal(JSON.stringify(loop));
      expect(quick.metrics.scaleUps).to.equal(1);
      expect(quick.decisions).to.be.greaterThan(100);
    });
  }

  it('an empty trace: the workers start on the first tick, connect, and the run ends as through the loop', async () => {
    const options: SimulateOptions = { trace: traceOf([]), ...dask, sim: { startupDelay: '3s' } };
    expect(JSON.stringify(await staticCluster(options, 4))).to.equal(JSON.stringify(await staticClusterThroughLoop(options, 4)));
  });

  it('a burst that ends before every worker arrived', async () => {
    const options: SimulateOptions = { trace: traceOf(burst(40, 0.5, 'inc', { duration: 0.2, nbytes: 1e6, holdFor: 3 })), ...dask, sim: { startupDelay: 'uniform:1s:30s', seed: 3 } };
    expect(JSON.stringify(await staticCluster(options, 10))).to.equal(JSON.stringify(await staticClusterThroughLoop(options, 10)));
  });

  it('long idle stretches (ticks recorded at once), a horizon inside one, and an interval of fractional milliseconds', async () => {
    const tasks = [...burst(20, 0, 'a', { duration: 3, nbytes: 1e6, holdFor: 40 }), ...burst(5, 900, 'b', { duration: 30 }), ...burst(8, 5000, 'c', { duration: 2 })];
    const variants: Array<Record<string, string>> = [{}, { 'simulator.horizon': '3000' }, { 'adaptive.interval': '1.1s' }, { 'adaptive.interval': '7s', 'simulator.horizon': '6000' }];
    for (const flags of variants) {
      const options: SimulateOptions = { trace: traceOf(tasks), ...dask, sim: { startupDelay: 'uniform:1s:9s', seed: 5 }, sources: { flags } };
      const quick = await staticCluster(options, 4);
      expect(JSON.stringify(quick), JSON.stringify(flags)).to.equal(JSON.stringify(await staticClusterThroughLoop(options, 4)));
      expect(quick.decisions, JSON.stringify(flags)).to.be.greaterThan(300);
    }
  });

  it('applies only where the loop would do nothing after its first tick', async () => {
    const kernel = (flags: Record<string, string>, preset: Record<string, unknown> = {}) =>
      Kernel.create({ builtins: [...plugins, simulatorPlugin], defaults, sources: { env: {}, flags, preset } }).then((k) => k.config);
    const fixed = parseStartupDelay('5s');
    expect(staticDriverApplies(await kernel({}), 10, fixed, 1, false)).to.equal(true);
    // Decision records asked for, no interval, guard rails, pools: the real loop.
    expect(staticDriverApplies(await kernel({}), 10, fixed, 1, true)).to.equal(false);
    expect(staticDriverApplies(await kernel({ 'adaptive.interval': '0' }), 10, fixed, 1, false)).to.equal(false);
    expect(staticDriverApplies(await kernel({ 'adaptive.scaleUp.cooldown': '30s' }), 10, fixed, 1, false)).to.equal(false);
    expect(staticDriverApplies(await kernel({}, { pools: [{ name: 'a' }] }), 10, fixed, 1, false)).to.equal(false);
    // A startup delay the cluster would give up on (cluster.workerStartTimeout): the real loop.
    expect(staticDriverApplies(await kernel({ 'cluster.workerStartTimeout': '4s' }), 10, fixed, 1, false)).to.equal(false);
    expect(staticDriverApplies(await kernel({ 'cluster.workerStartTimeout': '60s' }), 200, parseStartupDelay('exp:10s'), 1, false)).to.equal(false);
  });
});
