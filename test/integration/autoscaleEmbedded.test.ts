import 'reflect-metadata';
import { expect } from 'chai';
import { Autoscaler, type DecisionRecord, Kernel } from '@ebbtide/core';
import { builtinDefaults, builtinPlugins } from '@ebbtide/cli';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';

/**
 * The whole embedded default with real worker processes: the embedded scheduler in-process, the
 * local backend starting `ebbtide-worker`s, and Dask's defaults deciding.
 */
describe('autoscaling the embedded scheduler with real local workers', function () {
  this.timeout(90_000);
  let auto: Autoscaler | undefined;
  let client: Client | undefined;
  const seenPids = new Set<number>();

  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await auto?.shutdown('test end');
    killAll([...seenPids].filter(alive));
    expect([...seenPids].filter(alive), 'worker processes left behind').to.deep.equal([]);
  });

  async function start(flags: Record<string, string> = {}) {
    const kernel = await Kernel.create({
      builtins: builtinPlugins(),
      defaults: builtinDefaults(),
      sources: {
        env: {},
        flags: {
          'adaptive.interval': '200ms',
          'adaptive.waitCount': '3',
          'adaptive.maximum': '4',
          'adaptive.targetDuration': '1s',
          'cluster.memoryLimit': '100MB',
          ...flags,
        },
      },
    });
    auto = await Autoscaler.start(kernel);
    const records: DecisionRecord[] = [];
    auto.decisions$.subscribe((r) => records.push(r));
    client = await Client.connect(auto.scheduler.address!);
    const trackPids = () => {
      for (const pid of pidsMatching('ebbtide-worker', auto!.scheduler.address!)) seenPids.add(pid);
    };
    return { auto, client, records, trackPids };
  }

  it('scales 0 -> N under load and back to 0 when the work is gone; kept results survive the scale-down', async () => {
    const { auto, client, records, trackPids } = await start();
    expect(auto.cluster.plan).to.deep.equal([]);
    const keys: string[] = [];
    for (let i = 0; i < 24; i++) keys.push(await client.submit(builtinTask('sleep'), [300], { prefix: 'nap' }));
    const kept = await client.submit(builtinTask('inc'), [41]);
    await until(() => (trackPids(), auto.store.counts().workers >= 3), 30_000, '>= 3 workers connected');
    // Three connected is what was waited for; the bound is what must hold at every tick.
    expect(Math.max(...records.map((r) => r.safeTarget))).to.be.at.most(4);
    expect(Math.max(...records.map((r) => r.inputs!.plan))).to.be.at.most(4);
    await client.gather(keys);
    await client.release(keys);
    // Idle but holding one result: shrinks to the one worker holding it.
    // The record is emitted once the retired workers' processes have exited, a little after the
    // scheduler has dropped them.
    const scaledDown = () => records.some((r) => r.recommendation.status === 'down' && r.outcome?.status === 'scaled-down');
    await until(() => (trackPids(), auto.store.counts().workers === 1 && scaledDown()), 30_000, 'one worker left, after a recorded scale-down');
    expect(await client.gather([kept])).to.deep.equal([42]);
    await client.release([kept]);
    await until(() => auto.store.counts().workers === 0 && auto.cluster.plan.length === 0, 30_000, 'back to 0 workers');
    await until(() => [...seenPids].every((p) => !alive(p)), 10_000, 'worker processes to exit');
  });

  it('results of a retired worker are moved, not lost', async () => {
    const { auto, client, trackPids } = await start({ 'adaptive.minimum': '0' });
    // Spread results over several workers, then go idle: retirement must move them.
    const keys: string[] = [];
    for (let i = 0; i < 16; i++) keys.push(await client.submit(builtinTask('inc'), [i]));
    const slow: string[] = [];
    for (let i = 0; i < 12; i++) slow.push(await client.submit(builtinTask('sleep'), [300], { prefix: 'nap' }));
    await until(() => (trackPids(), auto.store.counts().workers >= 2), 30_000, '>= 2 workers');
    await client.gather(slow);
    await client.release(slow);
    await until(() => (trackPids(), auto.store.counts().workers === 1), 30_000, 'scaled down to one worker');
    expect(await client.gather(keys)).to.deep.equal(keys.map((_, i) => i + 1));
  });
});
