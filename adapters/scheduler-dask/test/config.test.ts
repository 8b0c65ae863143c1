import { expect } from 'chai';
import { Kernel, type WorkerKey, coreSchema, definePlugin, isEbbtideError, loadConfig } from '@ebbtide/core';
import { noopPlugin } from '@ebbtide/core/testing';
import { injectable } from 'tsyringe';
import daskSchedulerPlugin, { DaskSchedulerAdapter, daskSchedulerOptions, daskSchedulerSchema, parseDaskAddress } from '../src/index.js';

function config(flags: Record<string, string>) {
  return loadConfig(
    [
      { owner: 'core', schema: coreSchema },
      { owner: 'dask-scheduler', schema: daskSchedulerSchema },
    ],
    { env: {}, flags },
  ).config;
}

@injectable()
class OneGroupKey implements WorkerKey {
  key(): string {
    return '';
  }
}

/** The kernel checks that heuristic, workersToClose and workerKey resolve; these stand in for the Dask plugin. */
const decisionStubs = definePlugin({ name: 'stubs', register: (r) => r.workerKey('none', OneGroupKey) });
const kernelFlags = { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none', 'scheduler.type': 'dask' };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseDaskAddress', () => {
  const cases: Array<[string, string]> = [
    ['tcp://127.0.0.1:8786', 'tcp://127.0.0.1:8786'],
    ['scheduler:9000', 'tcp://scheduler:9000'],
    ['dask-scheduler', 'tcp://dask-scheduler:8786'],
    ['tcp://[::1]:8786', 'tcp://[::1]:8786'],
    ['  TCP://10.0.0.5:1  ', 'tcp://10.0.0.5:1'],
  ];
  for (const [input, expected] of cases) {
    it(`accepts ${JSON.stringify(input)}`, () => expect(parseDaskAddress(input).address).to.equal(expected));
  }

  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['tls://x:8786', /only tcp:\/\//],
    ['tcp://x:0', /port 1-65535/],
    ['tcp://x:http', /port 1-65535/],
    ['tcp://:8786', /host/],
    ['::1:8786', /brackets/],
  ];
  for (const [input, why] of bad) {
    it(`rejects ${JSON.stringify(input)} with CONFIG_INVALID naming scheduler.address`, () => {
      const e = thrown(() => parseDaskAddress(input));
      expect(isEbbtideError(e) && e.code).to.equal('CONFIG_INVALID');
      expect((e as Error).message).to.match(/^scheduler\.address: /).and.match(why);
    });
  }
});

describe('dask-scheduler config', () => {
  it('defaults: poll at adaptive.interval, 10 s timeout, unlimited start attempts', () => {
    const o = daskSchedulerOptions(config({ 'scheduler.type': 'dask', 'scheduler.address': 'tcp://127.0.0.1:8786', 'adaptive.interval': '2s' }));
    expect(o).to.deep.equal({
      address: 'tcp://127.0.0.1:8786',
      pollIntervalMs: 2000,
      maxPollIntervalMs: 8000,
      timeoutMs: 10_000,
      maxStartAttempts: 0,
      retireTimeoutMs: 300_000,
      claimTtlMs: 30_000,
      defaultTaskDurations: {},
    });
  });

  it('reads scheduler.dask.* and core durations', () => {
    const o = daskSchedulerOptions(
      config({
        'scheduler.address': 'h:1',
        'scheduler.dask.pollInterval': '250ms',
        'scheduler.dask.timeout': '3s',
        'scheduler.dask.maxStartAttempts': '4',
        'scheduler.defaultTaskDurations': '{"load": "2s"}',
      }),
    );
    expect(o).to.include({ address: 'tcp://h:1', pollIntervalMs: 250, timeoutMs: 3000, maxStartAttempts: 4 });
    expect(o.defaultTaskDurations).to.deep.equal({ load: 2 });
  });

  it('rejects an empty scheduler.address at options() time', () => {
    const e = thrown(() => daskSchedulerOptions(config({ 'scheduler.type': 'dask' })));
    expect(isEbbtideError(e) && e.code).to.equal('CONFIG_INVALID');
    expect(isEbbtideError(e) && e.key).to.equal('scheduler.address');
  });

  it('validates its keys with the rest of the config', () => {
    const e = thrown(() => config({ 'scheduler.dask.timeout': '0s' }));
    expect((e as Error).message).to.match(/scheduler\.dask\.timeout/);
  });

  it('registers scheduler "dask" and resolves it through the kernel with the configured address', async () => {
    const kernel = await Kernel.create({
      builtins: [noopPlugin, decisionStubs, daskSchedulerPlugin],
      sources: { env: {}, flags: { ...kernelFlags, 'scheduler.address': 'tcp://127.0.0.1:1' } },
    });
    expect(kernel.registry.names('scheduler')).to.deep.equal(['dask']);
    const adapter = kernel.resolve('scheduler');
    expect(adapter.address).to.equal('tcp://127.0.0.1:1');
    expect(adapter).to.be.instanceOf(DaskSchedulerAdapter);
    await adapter.close();
  });

  it('fails to resolve with a message naming scheduler.address when it is malformed', async () => {
    const kernel = await Kernel.create({
      builtins: [noopPlugin, decisionStubs, daskSchedulerPlugin],
      sources: { env: {}, flags: { ...kernelFlags, 'scheduler.address': 'ucx://gpu-node:13337' } },
    });
    const e = thrown(() => kernel.resolve('scheduler'));
    expect((e as Error).message).to.match(/scheduler\.address: only tcp:\/\/ addresses are supported/);
  });
});
