import { expect } from 'chai';
import { Kernel } from '@ebbtide/core';
import simulatorPluginDefault, { simulatorPlugin } from '../src/index.js';
import { dask, defaults, plugins } from './helpers.js';

describe('simulatorPlugin', () => {
  it('is the default export and contributes the simulator.* keys with their defaults', async () => {
    expect(simulatorPluginDefault).to.equal(simulatorPlugin);
    const kernel = await Kernel.create({ builtins: [...plugins, simulatorPlugin], defaults, sources: { env: {} } });
    expect(kernel.config.simulator).to.deep.equal({ startupDelay: '5s', bandwidth: 1e8, seed: 1, heartbeatInterval: 1, horizon: 0, settleTimeout: 3600 });
    expect(kernel.pluginOptions(simulatorPlugin)).to.deep.equal({
      startupDelay: { kind: 'fixed', seconds: 5 },
      bandwidth: 1e8,
      seed: 1,
      heartbeatInterval: 1,
      horizon: 0,
      settleTimeout: 3600,
    });
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
