import 'reflect-metadata';
import { expect } from 'chai';
import { VirtualTimeScheduler } from 'rxjs';
import { Autoscaler, type DecisionRecord, EbbtideError, type ScalingHeuristic, type WorkersToClose, definePlugin } from '@ebbtide/core';
import { FakeBackend, FakeResourceManager, FakeScheduler, createTestKernel, makeWorker } from '@ebbtide/core/testing';
import allocationPlugin from '@ebbtide/plugin-allocation';

/**
 * Worker pools in virtual time, one rule per scenario: the real kernel, Autoscaler, Adaptive
 * loop, PoolSet and `cheapest-first` allocation over in-memory backends (one per pool) and an
 * in-memory scheduler. Each test steps the clock one tick at a time and reads the decision
 * records and the backends' calls.
 */

/** A heuristic whose target the test sets. */
class ScriptedHeuristic implements ScalingHeuristic {
  value = 0;
  target() {
    return { target: this.value, explanation: { scripted: this.value } };
  }
}

/** Keeps the first `target` workers in registration order (AdaptiveCore's default). */
const keepFirst: WorkersToClose = { select: (s, q) => s.workers.slice(q.target ?? 0).map((w) => w.name) };

interface Setup {
  rx: VirtualTimeScheduler;
  auto: Autoscaler;
  heuristic: ScriptedHeuristic;
  scheduler: FakeScheduler;
  backends: Record<string, FakeBackend>;
  records: DecisionRecord[];
  /** Connects every started-but-unconnected worker of every backend. */
  arrive(): void;
  /** One tick (the interval), then whatever its promises do. */
  tick(n?: number): Promise<void>;
  last(): DecisionRecord;
  share(pool: string, r?: DecisionRecord): NonNullable<DecisionRecord['allocation']>[number];
}

async function setup(config: Record<string, unknown>, opts: { pools?: string[]; start?: number; world?: FakeResourceManager } = {}): Promise<Setup> {
  const rx = new VirtualTimeScheduler();
  rx.frame = opts.start ?? 0;
  const heuristic = new ScriptedHeuristic();
  const scripted = definePlugin({
    name: 'scripted',
    register(r) {
      r.heuristic('scripted', () => heuristic);
      r.workersToClose('keep-first', () => keepFirst);
    },
  });
  const kernel = await createTestKernel({
    plugins: [allocationPlugin, scripted],
    config: { heuristic: 'scripted', workersToClose: 'keep-first', allocation: 'cheapest-first', cluster: { name: 'c' }, ...config, adaptive: { interval: '1s', ...(config.adaptive as object) } },
    rxScheduler: rx,
  });
  const scheduler = new FakeScheduler();
  const world = opts.world ?? new FakeResourceManager();
  const names = opts.pools ?? [];
  const backends = Object.fromEntries((names.length ? names : ['default']).map((n) => [n, new FakeBackend(world)]));
  const auto = await Autoscaler.start(kernel, names.length ? { scheduler, backends } : { scheduler, backend: backends.default! });
  const records: DecisionRecord[] = [];
  auto.decisions$.subscribe((r) => records.push(r));
  const arrive = () => {
    for (const b of Object.values(backends)) {
      for (const name of b.active) {
        if (!auto.store.workerNames().includes(name)) scheduler.emit({ type: 'worker.added', worker: makeWorker(name) });
      }
    }
  };
  const interval = (kernel.config.adaptive.interval as number) * 1000;
  return {
    rx,
    auto,
    heuristic,
    scheduler,
    backends,
    records,
    arrive,
    tick: (n = 1) => advance(rx, n * interval, interval),
    last: () => records.at(-1)!,
    share: (pool, r = records.at(-1)!) => r.allocation!.find((a) => a.pool === pool)!,
  };
}

const started = (b: FakeBackend) => b.starts.flat().map((s) => s.name);

/** Lets every promise continuation that is ready run (one macrotask turn drains all microtasks). */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Moves virtual time on by `ms`, one `step` at a time, letting each step's promise work (a tick
 * acting on several pools) finish before the next, as the real clock would.
 */
async function advance(rx: VirtualTimeScheduler, ms: number, step: number): Promise<void> {
  const end = rx.frame + ms;
  await drain();
  while (rx.frame < end) {
    rx.maxFrames = Math.min(end, rx.frame + step);
    rx.flush();
    if (rx.frame < rx.maxFrames) rx.frame = rx.maxFrames;
    await drain();
  }
}

describe('pools in virtual time', () => {
  const twoPools = { adaptive: { maximum: 20, waitCount: 3 }, pools: [{ name: 'burst', cost: 3, maximum: 20 }, { name: 'cheap', cost: 1, maximum: 4 }] };
  let s: Setup | undefined;
  afterEach(async () => {
    await s?.auto.shutdown('test end');
    s = undefined;
  });

  it('cheapest first: the cheap pool fills to its maximum and the rest spills to the next; worker names carry the pool', async () => {
    s = await setup(twoPools, { pools: ['burst', 'cheap'] });
    s.heuristic.value = 6;
    await s.tick();
    const r = s.last();
    expect(started(s.backends.cheap!)).to.deep.equal(['c-cheap-0', 'c-cheap-1', 'c-cheap-2', 'c-cheap-3']);
    expect(started(s.backends.burst!)).to.deep.equal(['c-burst-0', 'c-burst-1']);
    expect(r.allocation!.map((a) => [a.pool, a.wanted, a.allowed, a.target])).to.deep.equal([
      ['cheap', 6, 4, 4],
      ['burst', 2, 2, 2],
    ]);
    expect(s.share('cheap').reason).to.contain('full at its maximum 4');
    expect(s.share('burst').reason).to.contain('spilled over (cheap is full)');
    expect(r.recommendation).to.deep.equal({ status: 'up', n: 6 });
    expect(r.outcome).to.deep.equal({ status: 'scaled-up', started: ['c-cheap-0', 'c-cheap-1', 'c-cheap-2', 'c-cheap-3', 'c-burst-0', 'c-burst-1'] });
    expect(s.auto.view.workers().map((w) => [w.name, w.pool])).to.deep.include.members([
      ['c-cheap-0', 'cheap'],
      ['c-burst-1', 'burst'],
    ]);
  });

  it('spill-over past a capacity-limited cheap pool, and back to it when its backoff ends', async () => {
    s = await setup(twoPools, { pools: ['burst', 'cheap'] });
    const cheap = s.backends.cheap!;
    let refuse = true;
    cheap.startImpl = async () => {
      if (refuse) throw new EbbtideError('BACKEND_CAPACITY', 'quota exceeded for pool cheap');
    };
    s.heuristic.value = 6;
    await s.tick(); // t=1: cheap refuses (capacity), burst gets its 2
    expect(s.last().outcome?.status).to.equal('failed');
    expect(s.auto.pools!.clusterOf('cheap')!.capacityLimit?.until).to.equal(6);
    await s.tick(); // t=2: cheap is skipped until 00:00:06, all 6 spill to burst
    expect(s.share('cheap')).to.deep.include({ wanted: 6, allowed: 0 });
    expect(s.share('cheap').reason).to.contain('skipped: capacity-limited until 00:00:06 after 1 failed start');
    expect(s.last().guards).to.deep.include({ guard: 'capacity', effect: 'pool cheap skipped: capacity-limited until 00:00:06 after 1 failed start', pool: 'cheap', from: 6, to: 0 });
    expect(s.share('burst')).to.deep.include({ wanted: 6, allowed: 6, target: 6 });
    expect(s.backends.burst!.active).to.have.length(6);
    s.arrive();
    refuse = false;
    await s.tick(4); // t=3..6: the backoff ends at 6: cheap gets its 4 back
    const back = s.records.slice(2).find((r) => s!.share('cheap', r).allowed === 4)!;
    expect(back.time).to.equal(6);
    expect(s.share('cheap', back).recommendation).to.deep.equal({ status: 'up', n: 4 });
    expect(s.share('burst', back)).to.deep.include({ allowed: 2, target: 2 });
    s.arrive();
    // burst, now above its share, goes down after waitCount (3) ticks of proposals: its newest first.
    await s.tick(3);
    const down = s.records.find((r) => r.recommendation.status === 'down')!;
    expect(down.time).to.equal(8);
    expect(down.recommendation).to.deep.equal({ status: 'down', workers: ['c-burst-2', 'c-burst-3', 'c-burst-4', 'c-burst-5'] });
    // (The refused names are not given again: Dask's counter only moves up.)
    expect(s.auto.cluster.plan).to.deep.equal(['c-burst-0', 'c-burst-1', 'c-cheap-3', 'c-cheap-4', 'c-cheap-5', 'c-cheap-6']);
  });

  it('scale-down takes the most expensive pool first; Dask\'s rules pick the workers inside it', async () => {
    s = await setup({ ...twoPools, adaptive: { maximum: 20, waitCount: 1 } }, { pools: ['burst', 'cheap'] });
    s.heuristic.value = 6;
    await s.tick();
    s.arrive();
    s.heuristic.value = 4;
    await s.tick();
    expect(s.last().recommendation).to.deep.equal({ status: 'down', workers: ['c-burst-0', 'c-burst-1'] });
    expect(s.share('cheap').recommendation).to.deep.equal({ status: 'same' });
    expect(s.scheduler.retires).to.deep.equal([['c-burst-0', 'c-burst-1']]);
    s.heuristic.value = 2;
    await s.tick();
    expect(s.last().recommendation).to.deep.equal({ status: 'down', workers: ['c-cheap-2', 'c-cheap-3'] });
    expect(s.auto.cluster.plan).to.deep.equal(['c-cheap-0', 'c-cheap-1']);
  });

  it('GPU demand grows only the GPU pool; CPU-only work never grows it', async () => {
    s = await setup(
      {
        scheduler: { defaultTaskDurations: { train: '10s' } },
        pools: [{ name: 'cpu', maximum: 8 }, { name: 'gpu', cost: 5, maximum: 4, resources: { GPU: 1 } }],
      },
      { pools: ['cpu', 'gpu'] },
    );
    s.heuristic.value = 5;
    await s.tick();
    expect(started(s.backends.cpu!)).to.have.length(5);
    expect(s.backends.gpu!.starts).to.deep.equal([]);
    expect(s.share('gpu').reason).to.equal('offers GPU: grown only for work that needs it');
    s.arrive();
    // Three training tasks that need a GPU each (10s each by default; 30 GPU-seconds over 5s: all 3).
    for (let i = 0; i < 3; i++) s.scheduler.emit({ type: 'task.transition', key: `train-${i}`, prefix: 'train', to: 'queued', resources: { GPU: 1 } });
    s.heuristic.value = 8;
    await s.tick();
    expect(s.last().explanation.demand).to.deep.equal({ GPU: 3 });
    expect(s.share('gpu')).to.deep.include({ wanted: 3, allowed: 3 });
    expect(s.share('gpu').reason).to.contain('GPU demand 3: 3 workers of 1 GPU');
    expect(s.share('cpu')).to.deep.include({ allowed: 5 });
    const specs = s.backends.gpu!.starts.flat();
    expect(specs.map((w) => w.name)).to.deep.equal(['c-gpu-0', 'c-gpu-1', 'c-gpu-2']);
    // The workers are told what they offer, whatever the backend.
    expect(specs[0]!.pool).to.deep.equal({ name: 'gpu', resources: { GPU: 1 }, labels: {} });
    expect(specs[0]!.env).to.deep.include({ EBBTIDE_WORKER_RESOURCES: 'GPU=1', DASK_DISTRIBUTED__WORKER__RESOURCES: '{"GPU":1}', EBBTIDE_WORKER_POOL: 'gpu' });
  });

  it('cooldown: a pool holds a scale-down for its cooldown after its last change', async () => {
    s = await setup({ adaptive: { waitCount: 1 }, pools: [{ name: 'only', scaleDown: { cooldown: '5s' } }] }, { pools: ['only'] });
    s.heuristic.value = 3;
    await s.tick(); // t=1: up to 3
    s.arrive();
    s.heuristic.value = 1;
    await s.tick(); // t=2: held
    expect(s.share('only')).to.deep.include({ allowed: 1, target: 3 });
    expect(s.last().guards).to.deep.equal([
      { guard: 'scaleDown.cooldown', effect: 'held by scaleDown.cooldown 5s: last change at 00:00:01, down again from 00:00:06', pool: 'only', from: 1, to: 3 },
    ]);
    await s.tick(3); // t=3..5: still held
    expect(s.backends.only!.stops).to.deep.equal([]);
    await s.tick(); // t=6: free again
    expect(s.last().recommendation).to.deep.equal({ status: 'down', workers: ['c-only-1', 'c-only-2'] });
  });

  it('blind fallback: while the scheduler cannot be read, a pool with scale-to grows to its floor after `after`; one with hold holds', async () => {
    s = await setup(
      { pools: [{ name: 'keep', maximum: 3, blind: { policy: 'scale-to', workers: 3, after: '2s' } }, { name: 'hold', cost: 2 }] },
      { pools: ['keep', 'hold'] },
    );
    s.heuristic.value = 1;
    await s.tick();
    s.arrive();
    s.scheduler.emit({ type: 'connection', connected: false, reason: 'test' });
    s.heuristic.value = 9;
    await s.tick(); // t=2: blind since 2, within `after`: hold everything
    expect(s.last().blind).to.deep.equal({ since: 2 });
    expect(s.last().recommendation).to.deep.equal({ status: 'same' });
    await s.tick(2); // t=4: 2s blind: keep grows to 3, hold holds
    const r = s.last();
    expect(r.recommendation).to.deep.equal({ status: 'up', n: 3 });
    expect(r.guards).to.deep.equal([{ guard: 'blind', effect: 'blind since 00:00:02: scale-to 3', pool: 'keep', from: 1, to: 3 }]);
    expect(s.share('hold', r)).to.deep.include({ target: 0, recommendation: { status: 'same' } });
    expect(started(s.backends.keep!)).to.deep.equal(['c-keep-0', 'c-keep-1', 'c-keep-2']);
    expect(s.backends.hold!.starts).to.deep.equal([]);
    // Back: the heuristic decides again.
    s.scheduler.emit({ type: 'connection', connected: true });
    s.arrive();
    await s.tick();
    expect(s.last().blind).to.equal(undefined);
    expect(s.share('hold')).to.deep.include({ allowed: 6 });
  });

  it('blind fallback without pools (adaptive.blind) scales the one default pool, names unchanged', async () => {
    s = await setup({ adaptive: { blind: { policy: 'scale-to', workers: 2 } } });
    s.scheduler.emit({ type: 'connection', connected: false });
    await s.tick();
    expect(s.last().guards).to.deep.equal([{ guard: 'blind', effect: 'blind since 00:00:01: scale-to 2', from: 0, to: 2 }]);
    expect(started(s.backends.default!)).to.deep.equal(['c-0', 'c-1']);
    expect(s.last().allocation).to.equal(undefined);
  });

  it('a cron floor across a time-zone change of day: Monday 09:00 in Auckland raises the floor on Sunday 21:00 UTC', async () => {
    const sunday2059 = Date.parse('2024-06-02T20:59:58Z');
    s = await setup({ adaptive: { schedule: [{ cron: '0 9 * * 1-5', duration: '8h', minimum: 4, timezone: 'Pacific/Auckland' }] } }, { start: sunday2059 });
    await s.tick(); // 20:59:59 UTC: no window yet
    expect(s.last().safeTarget).to.equal(0);
    await s.tick(); // 21:00:00 UTC = Monday 09:00 NZST
    const r = s.last();
    expect(r.explanation.bounds).to.deep.include({ minimum: 4, cappedBy: 'minimum' });
    expect(r.guards).to.deep.equal([{ guard: 'schedule', effect: 'schedule "0 9 * * 1-5" (Pacific/Auckland) raises the minimum to 4 until 05:00:00', from: 0, to: 4 }]);
    expect(r.recommendation).to.deep.equal({ status: 'up', n: 4 });
    expect(started(s.backends.default!)).to.deep.equal(['c-0', 'c-1', 'c-2', 'c-3']);
  });

  it('a pool ceiling by cron moves the demand to the next pool while it lasts', async () => {
    s = await setup(
      { adaptive: { waitCount: 1 }, pools: [{ name: 'cheap', maximum: 10, schedule: [{ cron: '0 0 * * *', duration: '4s', maximum: 1 }] }, { name: 'burst', cost: 2 }] },
      { pools: ['cheap', 'burst'] },
    );
    s.heuristic.value = 3;
    await s.tick(); // 00:00:01, inside the midnight window
    expect(s.share('cheap')).to.deep.include({ allowed: 1 });
    expect(s.share('burst')).to.deep.include({ allowed: 2 });
    expect(s.last().guards![0]).to.deep.include({ guard: 'schedule', pool: 'cheap', effect: 'schedule "0 0 * * *" lowers the maximum to 1 until 00:00:04' });
    s.arrive();
    await s.tick(3); // 00:00:04: the window is over
    expect(s.share('cheap')).to.deep.include({ allowed: 3 });
  });

  it('the HPA example through the loop: scaleDown 4 pods/60s and 10%/60s takes 80 workers to 10 as the documentation says', async () => {
    s = await setup({ adaptive: { interval: '60s', waitCount: 1, scaleDown: { policies: [{ type: 'workers', value: 4, period: '60s' }, { type: 'percent', value: 10, period: '60s' }] } } });
    s.heuristic.value = 80;
    await s.tick();
    s.arrive();
    s.heuristic.value = 10;
    const plans: number[] = [];
    for (let i = 0; i < 14; i++) {
      await s.tick();
      plans.push(s.auto.cluster.plan.length);
    }
    expect(plans).to.deep.equal([72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10]);
    expect(s.records[1]!.guards).to.deep.equal([{ guard: 'scaleDown.policies', effect: 'capped by scaleDown.policies: 10% per 60s (selectPolicy max)', from: 10, to: 72 }]);
    expect(s.records[10]!.guards![0]!.effect).to.equal('capped by scaleDown.policies: 4 workers per 60s (selectPolicy max)');
    // The single default pool keeps its names and shows no allocation.
    expect(s.auto.cluster.plan[0]).to.equal('c-0');
    expect(s.records[1]!.allocation).to.equal(undefined);
  });

  it("adoption is per pool: each pool takes its own workers (and its own lock), counters continue above them", async () => {
    const world = new FakeResourceManager();
    for (const n of ['c-cheap-0', 'c-cheap-2', 'c-burst-5', 'c-7']) world.alive.add(n);
    s = await setup(twoPools, { pools: ['burst', 'cheap'], world });
    expect(s.auto.adoption.adopted.sort()).to.deep.equal(['c-burst-5', 'c-cheap-0', 'c-cheap-2']);
    expect(s.backends.cheap!.adopts).to.deep.equal([{ cluster: 'c-cheap', scheduler: 'fake://scheduler' }]);
    expect(s.backends.burst!.adopts).to.deep.equal([{ cluster: 'c-burst', scheduler: 'fake://scheduler' }]);
    expect([...world.locks.keys()].sort()).to.deep.equal(['c-burst', 'c-cheap']);
    s.heuristic.value = 6;
    await s.tick();
    expect(started(s.backends.cheap!)).to.deep.equal(['c-cheap-3', 'c-cheap-4']);
    expect(started(s.backends.burst!)).to.deep.equal(['c-burst-6']);
  });
});
