import 'reflect-metadata';
import { expect } from 'chai';
import { Autoscaler, type DecisionRecord, Kernel } from '@ebbtide/core';
import { builtinDefaults, builtinPlugins } from '@ebbtide/cli';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';

/**
 * Resource-aware demand end to end with real processes: the embedded scheduler, two pools of
 * local `ebbtide-worker`s — `cpu` (cheap, plain) and `gpu` (`resources: { GPU: 1 }`, whose
 * workers get `EBBTIDE_WORKER_RESOURCES=GPU=1` and offer it) — and tasks submitted with and
 * without `resources: { GPU: 1 }`. CPU work never grows the GPU pool; GPU work grows it, and runs
 * there.
 */
describe('resource-aware pools with the embedded scheduler and real local workers', function () {
  this.timeout(90_000);
  let auto: Autoscaler | undefined;
  let client: Client | undefined;
  const seenPids = new Set<number>();

  after(async () => {
    await client?.close().catch(() => undefined);
    await auto?.shutdown('test end');
    killAll([...seenPids].filter(alive));
    expect([...seenPids].filter(alive), 'worker processes left behind').to.deep.equal([]);
  });

  it('a GPU task grows only the GPU pool, and CPU tasks never grow it', async () => {
    const cluster = `res${process.pid}`;
    const kernel = await Kernel.create({
      builtins: builtinPlugins(),
      defaults: builtinDefaults(),
      sources: {
        env: {},
        preset: {
          pools: [
            { name: 'cpu', cost: 1, maximum: 2, backend: { type: 'local' } },
            { name: 'gpu', cost: 3, maximum: 1, resources: { GPU: 1 }, backend: { type: 'local' } },
          ],
        },
        flags: { 'cluster.name': cluster, 'adaptive.interval': '200ms', 'adaptive.waitCount': '2', 'adaptive.maximum': '3', 'adaptive.targetDuration': '1s' },
      },
    });
    auto = await Autoscaler.start(kernel);
    const records: DecisionRecord[] = [];
    auto.decisions$.subscribe((r) => records.push(r));
    client = await Client.connect(auto.scheduler.address!);
    const address = auto.scheduler.address!;
    const track = () => {
      for (const pid of pidsMatching('ebbtide-worker', address)) seenPids.add(pid);
    };
    const workers = () => auto!.store.snapshot(0).workers;
    const share = (r: DecisionRecord, pool: string) => r.allocation!.find((a) => a.pool === pool)!;

    // CPU work: the cpu pool grows, the gpu pool is never given a share.
    const cpu: string[] = [];
    for (let i = 0; i < 6; i++) cpu.push(await client.submit(builtinTask('sleep'), [300], { prefix: 'crunch' }));
    await until(() => (track(), workers().some((w) => w.name.startsWith(`${cluster}-cpu-`))), 30_000, 'a cpu worker connected');
    await client.gather(cpu);
    const cpuPhase = records.length;
    expect(cpuPhase).to.be.greaterThan(0);
    expect(records.some((r) => share(r, 'cpu').allowed > 0), 'the cpu pool was given workers').to.equal(true);
    for (const r of records) expect(share(r, 'gpu').allowed, `tick ${r.tick}: ${JSON.stringify(r.allocation)}`).to.equal(0);
    expect(workers().filter((w) => w.name.startsWith(`${cluster}-gpu-`))).to.deep.equal([]);

    // GPU work: only a worker of the gpu pool can run it, and the gpu pool is grown for it.
    const gpu = await client.submit(builtinTask('sleep'), [200], { prefix: 'train', resources: { GPU: 1 } });
    await until(() => (track(), workers().some((w) => w.name.startsWith(`${cluster}-gpu-`))), 30_000, 'a gpu worker connected');
    const gpuWorker = workers().find((w) => w.name.startsWith(`${cluster}-gpu-`))!;
    expect(gpuWorker.resources).to.deep.equal({ GPU: 1 });
    expect(await client.gather([gpu])).to.deep.equal([200]);
    const grown = records.slice(cpuPhase).find((r) => share(r, 'gpu').allowed > 0);
    expect(grown, 'a tick gave the gpu pool a worker').to.not.equal(undefined);
    expect(share(grown!, 'gpu').reason).to.match(/GPU/);
    // Every worker the gpu pool started was for the GPU task: one, its maximum.
    const started = records.flatMap((r) => r.outcome?.started ?? []);
    expect(started.filter((n) => n.startsWith(`${cluster}-gpu-`))).to.deep.equal([`${cluster}-gpu-0`]);
    await client.release([...cpu, gpu]);
  });
});
