import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeBackend, FakeResourceManager, FakeScheduler } from '../src/testing/fakes.js';
import { describeResourceBackend } from '../src/testing/describeResourceBackend.js';
import { describeSchedulerAdapter } from '../src/testing/describeSchedulerAdapter.js';
import { describeHeuristic, describeWorkerKey, describeWorkersToClose } from '../src/testing/describeDecisionPlugins.js';
import { NoopHeuristic, NoopWorkersToClose } from '../src/testing/noopPlugin.js';

// The test kit's own fakes and stand-ins keep the contracts they stand in for.
describeResourceBackend('FakeBackend', () => {
  const world = new FakeResourceManager();
  return {
    cluster: `fake${process.pid}`,
    create: () => new FakeBackend(world, true),
    spec: (name) => ({ name, scheduler: 'fake://s', nthreads: 1, memoryLimit: 0 }),
    failingSpec: (name) => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
    crash: async (b) => (b as FakeBackend).crash(),
    isAlive: async (name) => world.alive.has(name),
    waitMs: 2000,
  };
});

describeSchedulerAdapter('FakeScheduler', () => ({
  create: () => new FakeScheduler(),
  connectWorker: async (adapter, name) => {
    const fake = adapter as FakeScheduler;
    fake.emit({ type: 'worker.added', worker: { name, address: `fake://${name}`, host: 'h', nthreads: 1, memoryLimit: 0, nbytes: 0, status: 'running', labels: {} } });
    return async () => fake.emit({ type: 'worker.removed', name });
  },
  waitMs: 2000,
}));

describeHeuristic('NoopHeuristic', () => new NoopHeuristic());
describeWorkersToClose('NoopWorkersToClose', () => new NoopWorkersToClose());
describeWorkerKey('a key per worker', () => ({ key: (w) => w.name }));

describe('a broken plugin fails its contract suite, naming the broken guarantee', function () {
  this.timeout(60_000);
  const run = (fixture: string) =>
    spawnSync(process.execPath, [fileURLToPath(new URL('../../../node_modules/mocha/bin/mocha.js', import.meta.url)), '--no-config', fixture], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
  const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/broken/${name}`, import.meta.url));

  it('a backend whose status$ does not replay its current view', () => {
    const r = run(fixture('noReplayBackend.mjs'));
    expect(r.status, r.stdout).to.not.equal(0);
    expect(r.stdout).to.contain('broken guarantee "status$ replays the current view"');
  });

  it('a heuristic that reads the clock', () => {
    const r = run(fixture('clockHeuristic.mjs'));
    expect(r.status, r.stdout).to.not.equal(0);
    expect(r.stdout).to.contain('broken guarantee "pure (no I/O, no clock, no randomness)": target() called Date.now');
  });

  it('a workers-to-close strategy that closes half a group', () => {
    const r = run(fixture('halfGroupStrategy.mjs'));
    expect(r.status, r.stdout).to.not.equal(0);
    expect(r.stdout).to.contain('broken guarantee "never returns part of a group"');
  });
});
