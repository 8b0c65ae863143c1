import { expect } from 'chai';
import { Cluster } from '../../src/cluster/Cluster.js';
import { definePlugin } from '../../src/plugins/EbbtidePlugin.js';
import { Kernel } from '../../src/plugins/Kernel.js';
import { PoolSet } from '../../src/pools/PoolSet.js';
import { buildCluster, checkPoolSelections } from '../../src/pools/buildCluster.js';
import { poolSettings } from '../../src/pools/poolSettings.js';
import { FakeBackend, FakeScheduler } from '../../src/testing/fakes.js';
import { testDefaultsPlugin } from '../../src/testing/createTestKernel.js';
import { rejectedBy } from '../support/errors.js';
import { type TempDir, makeTempDir } from '../support/tempDir.js';

/** A backend with a config section of its own, to check pool sections against. */
const toyPlugin = definePlugin({
  name: 'toy',
  configSchema: { backend: { toy: { size: { doc: 'Size', format: 'positive-integer', default: 1 }, zone: { doc: 'Zone', format: 'string', default: 'a' } } } },
  register(r) {
    r.backend('toy', (ctx) => Object.assign(new FakeBackend(), { made: ctx.config }));
    r.allocation('all-first', () => ({ allocate: (q) => ({ pools: q.pools.map((p, i) => ({ pool: p.name, wanted: i ? 0 : q.target, allowed: i ? p.minimum : Math.min(q.target, p.maximum), reason: 'test' })) }) }));
  },
});

async function kernel(config: Record<string, unknown>, tmp?: TempDir): Promise<Kernel> {
  const sources = tmp ? { file: tmp.write('ebbtide.json', JSON.stringify(config)), env: {} } : { env: {}, preset: config };
  return Kernel.create({
    builtins: [testDefaultsPlugin, toyPlugin],
    defaults: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'each', scheduler: { type: 'fake' }, backend: { type: 'fake' }, allocation: 'all-first' },
    sources,
  });
}

async function configError(config: Record<string, unknown>, tmp: TempDir): Promise<string> {
  return (await rejectedBy(kernel(config, tmp), 'CONFIG_INVALID')).message;
}

describe('pools: configuration', () => {
  let tmp: TempDir;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(() => tmp.remove());

  it('types every entry, with defaults: minimum 0, maximum inf, cost 1, priority 0, no resources or labels, no rails', async () => {
    const k = await kernel({ pools: [{ name: 'cheap', maximum: 4 }, { name: 'gpu', cost: 5, resources: { GPU: 1 }, labels: { tier: 'gpu' }, backend: { type: 'toy', toy: { size: 3 } } }] });
    const { pools, rails } = poolSettings(k.config);
    expect(pools.map((p) => [p.name, p.minimum, p.maximum, p.cost, p.priority])).to.deep.equal([
      ['cheap', 0, 4, 1, 0],
      ['gpu', 0, Infinity, 5, 0],
    ]);
    expect(pools[1]!.resources).to.deep.equal({ GPU: 1 });
    expect(pools[1]!.labels).to.deep.equal({ tier: 'gpu' });
    // A pool without a backend uses the top-level one; a pool's own is typed by the backend's schema.
    expect(pools[0]!.backend).to.equal(k.config.backend);
    expect(pools[1]!.backend).to.deep.equal({ type: 'toy', toy: { size: 3, zone: 'a' } });
    expect(rails.scaleDown).to.deep.equal({ stabilizationWindow: 0, policies: [], selectPolicy: 'max', cooldown: 0 });
  });

  it('reads the guard rails of the cluster and of each pool, durations in seconds; a pool without a blind rule follows adaptive.blind', async () => {
    const k = await kernel({
      adaptive: {
        maximum: 20,
        scaleDown: { stabilizationWindow: '5m', policies: [{ type: 'percent', value: 25, period: '60s' }], selectPolicy: 'min', cooldown: '2m' },
        blind: { policy: 'scale-to', workers: 2, after: '30s' },
        schedule: [{ cron: '0 9 * * 1-5', duration: '8h', minimum: 4, timezone: 'Europe/Berlin' }],
      },
      pools: [{ name: 'a', scaleUp: { policies: [{ type: 'workers', value: 4, period: 15 }] }, schedule: [{ cron: '0 22 * * *', duration: '6h', maximum: 1 }] }, { name: 'b', blind: { policy: 'hold' } }],
    });
    const { pools, rails } = poolSettings(k.config);
    expect(rails.scaleDown).to.deep.equal({ stabilizationWindow: 300, policies: [{ type: 'percent', value: 25, period: 60 }], selectPolicy: 'min', cooldown: 120 });
    expect(rails.blind).to.deep.equal({ policy: 'scale-to', workers: 2, after: 30 });
    expect(rails.schedule).to.deep.equal([{ cron: '0 9 * * 1-5', duration: 28800, minimum: 4, timezone: 'Europe/Berlin' }]);
    expect(pools[0]!.rails.scaleUp.policies).to.deep.equal([{ type: 'workers', value: 4, period: 15 }]);
    expect(pools[0]!.rails.schedule).to.deep.equal([{ cron: '0 22 * * *', duration: 21600, maximum: 1, timezone: 'UTC' }]);
    expect(pools[0]!.rails.blind).to.deep.equal({ policy: 'scale-to', workers: 2, after: 30 });
    expect(pools[1]!.rails.blind).to.deep.equal({ policy: 'hold', workers: 0, after: 0 });
  });

  it('takes policies from the environment as JSON', async () => {
    const k = await Kernel.create({
      builtins: [testDefaultsPlugin],
      defaults: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'each' },
      sources: { env: { EBBTIDE_ADAPTIVE_SCALE_UP_POLICIES: '[{"type":"workers","value":2,"period":"30s"}]' } },
    });
    expect(poolSettings(k.config).rails.scaleUp.policies).to.deep.equal([{ type: 'workers', value: 2, period: 30 }]);
  });

  it('names the entry and the key of every mistake', async () => {
    expect(await configError({ pools: [{ name: 'a', maximun: 3 }] }, tmp)).to.match(/^pools\[0\]\.maximun: unknown key; expected one of name, backend, .* \(did you mean maximum\?\) \(from .*ebbtide\.json\)$/);
    expect(await configError({ pools: [{ name: 'Big Pool' }] }, tmp)).to.match(/^pools\[0\]\.name: expected lowercase letters, digits and dashes/);
    expect(await configError({ pools: [{ name: 'a' }, { name: 'a' }] }, tmp)).to.match(/^pools\[1\]\.name: pool "a" is named twice/);
    expect(await configError({ pools: [{ name: 'a', minimum: 5, maximum: 2 }] }, tmp)).to.match(/^pools\[0\]\.minimum: expected at most the pool's maximum \(2\), got 5/);
    expect(await configError({ pools: [{ name: 'a', resources: { GPU: 0 } }] }, tmp)).to.match(/^pools\[0\]\.resources\.GPU: expected a number > 0, got 0/);
    expect(await configError({ pools: [{ name: 'a', backend: { type: 'toy', toy: { size: 0 } } }] }, tmp)).to.match(/^pools\[0\]\.backend\.toy\.size: .*whole number >= 1.*got 0/);
    expect(await configError({ pools: [{ name: 'a', backend: { type: 'toy', toy: { colour: 'red' } } }] }, tmp)).to.match(/^pools\[0\]\.backend\.toy\.colour: unknown key/);
    expect(await configError({ adaptive: { maximum: 3 }, pools: [{ name: 'a', minimum: 2 }, { name: 'b', minimum: 2 }] }, tmp)).to.match(/^pools: the pools' minimums add up to 4, above adaptive\.maximum \(3\)/);
    expect(await configError({ cluster: { name: 'a-very-long-cluster-name-indeed' }, pools: [{ name: 'and-a-long-pool' }] }, tmp)).to.match(/^pools\[0\]\.name: "a-very-long-cluster-name-indeed-and-a-long-pool" \(\{cluster\}-\{pool\}\) must be at most 40 characters/);
    expect(await configError({ pools: [{ name: 'a', scaleDown: { policies: [{ type: 'pods', value: 4, period: 60 }] } }] }, tmp)).to.match(/^pools\[0\]\.scaleDown\.policies\[0\]\.type: expected workers or percent, got "pods"/);
    expect(await configError({ pools: [{ name: 'a', schedule: [{ cron: '0 9 * *', duration: '8h', minimum: 1 }] }] }, tmp)).to.match(/^pools\[0\]\.schedule\[0\]\.cron: expected a five-field cron expression .*got "0 9 \* \*" in "UTC": .*five, six, or seven/);
    expect(await configError({ adaptive: { scaleDown: { policies: [{ type: 'percent', value: 10 }] } } }, tmp)).to.match(
      /^adaptive\.scaleDown\.policies\[0\]\.period: expected a duration > 0 such as "30s", "5m" or a number of seconds, got nothing \(from .*\)$/,
    );
    expect(await configError({ adaptive: { blind: { policy: 'freeze' } } }, tmp)).to.match(/^adaptive\.blind\.policy: expected hold or scale-to/);
    expect(await configError({ adaptive: { schedule: [{ cron: '0 9 * * *', duration: '1h' }] } }, tmp)).to.match(/^adaptive\.schedule\[0\]: a window needs a minimum \(a floor\), a maximum \(a ceiling\), or both/);
  });

  it("an unknown pool backend type is named by the pool's key when the autoscaler starts", async () => {
    const k = await kernel({ pools: [{ name: 'a' }, { name: 'b', backend: { type: 'nope' } }] });
    let message = '';
    try {
      checkPoolSelections(k, {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/^pools\[1\] \(b\): backend\.type: unknown backend "nope"; registered: .*toy/);
  });

  it('builds one Cluster without pools or rails (today\'s path), a single-pool PoolSet with rails, a PoolSet of named pools with pools', async () => {
    const scheduler = new FakeScheduler();
    expect(buildCluster(await kernel({}), scheduler, {}).cluster).to.be.instanceOf(Cluster);
    const railed = buildCluster(await kernel({ adaptive: { scaleDown: { cooldown: '1m' } } }), scheduler, {});
    expect(railed.cluster).to.be.instanceOf(PoolSet);
    expect((railed.cluster as PoolSet).names).to.deep.equal(['default']);
    const k = await kernel({ cluster: { name: 'c1' }, pools: [{ name: 'cheap' }, { name: 'gpu', backend: { type: 'toy', toy: { zone: 'b' } }, nthreads: 4 }] });
    const pooled = buildCluster(k, scheduler, {});
    const set = pooled.cluster as PoolSet;
    expect(set.names).to.deep.equal(['cheap', 'gpu']);
    // Each pool's backend is built with its own section and the pool as the cluster.
    const made = (set.clusterOf('gpu')!.backend as unknown as { made: Record<string, { name?: string; nthreads?: number; toy?: unknown }> }).made;
    expect(made.backend).to.deep.equal({ type: 'toy', toy: { size: 1, zone: 'b' } });
    expect(made.cluster).to.deep.include({ name: 'c1-gpu', nthreads: 4 });
    expect(set.poolOf('c1-gpu-0')).to.equal('gpu');
    expect(set.poolOf('c1-cheap-12')).to.equal('cheap');
    expect(set.poolOf('c1-0')).to.equal(null);
  });
});
