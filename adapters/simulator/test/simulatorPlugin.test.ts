import { expect } from 'chai';
import { Kernel } from '@ebbtide/core';
import simulatorPluginDefault, { type SimulatorOptions, simulatorPlugin } from '../src/index.js';
import { dask, defaults, plugins } from './helpers.js';

describe('simulatorPlugin', () => {
  it('is the default export and contributes the simulator.* keys with their defaults', async () => {
    expect(simulatorPluginDefault).to.equal(simulatorPlugin);
    const kernel = await Kernel.create({ builtins: [...plugins, simulatorPlugin], defaults, sources: { env: {} } });
    expect(kernel.config.simulator).to.deep.equal({ startupDelay: '5s', bandwidth: 1e8, seed: 1, heartbeatInterval: 1, horizon: 0, settleTimeout: 3600, pools: {} });
    expect(kernel.pluginOptions(simulatorPlugin)).to.deep.equal({
      startupDelay: { kind: 'fixed', seconds: 5 },
      bandwidth: 1e8,
      seed: 1,
      heartbeatInterval: 1,
      horizon: 0,
      settleTimeout: 3600,
      pools: {},
    });
  });

  it('checks simulator.pools: each pool its startup delay and capacity, errors naming the key', async () => {
    const load = (pools: unknown) => Kernel.create({ builtins: [...plugins, simulatorPlugin], defaults, sources: { env: {}, preset: { simulator: { pools } } } }).then((k) => k.pluginOptions(simulatorPlugin) as SimulatorOptions);
    expect((await load({ cheap: { capacity: 4, startupDelay: 'uniform:10s:30s' }, burst: {} })).pools).to.deep.equal({
      cheap: { capacity: 4, startupDelay: { kind: 'uniform', min: 10, max: 30 } },
      burst: {},
    });
    const failure = async (pools: unknown) => {
      try {
        await load(pools);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(await failure({ cheap: { capacity: -1 } })).to.contain('simulator.pools.cheap.capacity: expected a whole number >= 0, got -1');
    expect(await failure({ cheap: { startupDelay: 'soon' } })).to.contain('simulator.pools.cheap.startupDelay: expected a duration');
    expect(await failure({ cheap: { quota: 3 } })).to.contain('simulator.pools.cheap.quota: unknown key; expected startupDelay or capacity');
  });

  it('takes its keys from the environment like every plugin (EBBTIDE_SIMULATOR_*)', async () => {
    const kernel = await Kernel.create({ builtins: [...plugins, simulatorPlugin], defaults, sources: { env: { EBBTIDE_SIMULATOR_STARTUP_DELAY: 'exp:30s', EBBTIDE_SIMULATOR_SEED: '7' } } });
    expect(kernel.config.simulator).to.deep.include({ startupDelay: 'exp:30s', seed: 7 });
  });

  it('registers no scheduler or backend: a simulation hands in its own instances', async () => {
    const kernel = await Kernel.create({ builtins: [...plugins, simulatorPlugin], defaults, sources: { env: {} } });
    expect(kernel.registry.names('scheduler')).to.deep.equal([]);
    expect(kernel.registry.names('backend')).to.deep.equal([]);
    expect(kernel.registry.names('heuristic')).to.include('static-baseline');
  });
});
