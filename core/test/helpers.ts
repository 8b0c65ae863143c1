import { TestScheduler } from 'rxjs/testing';
import { expect } from 'chai';
import { Adaptive, type AdaptiveOptions } from '../src/loop/Adaptive.js';
import { Cluster } from '../src/cluster/Cluster.js';
import { SchedulerStateStore } from '../src/state/SchedulerStateStore.js';
import { MemoryLogger } from '../src/logging/Logger.js';
import type { DecisionRecord } from '../src/DecisionRecord.js';
import type { ScalingHeuristic } from '../src/contracts/ScalingHeuristic.js';
import type { WorkersToClose } from '../src/contracts/WorkersToClose.js';
import { FakeBackend, FakeScheduler } from '../src/testing/fakes.js';

/** A heuristic whose target the test sets; counts its calls; can be told to throw. */
export class ScriptedHeuristic implements ScalingHeuristic {
  value = 0;
  calls = 0;
  throwOn = new Set<number>();
  target() {
    this.calls++;
    if (this.throwOn.has(this.calls)) throw new Error(`boom on call ${this.calls}`);
    return { target: this.value, explanation: { scripted: this.value } };
  }
}

/** Keeps the first `target` workers in registration order, closes the rest (AdaptiveCore's default). */
export const keepFirst: WorkersToClose = {
  select: (s, q) => s.workers.slice(q.target ?? 0).map((w) => w.name),
};

export function newTestScheduler(): TestScheduler {
  return new TestScheduler((a, e) => {
    expect(a).to.deep.equal(e);
  });
}

export function setupLoop(rx: TestScheduler, options: Partial<AdaptiveOptions> = {}) {
  const store = new SchedulerStateStore();
  const scheduler = new FakeScheduler();
  scheduler.events$.subscribe((e) => store.apply(e));
  const backend = new FakeBackend();
  const logger = new MemoryLogger('debug');
  const cluster = new Cluster(
    backend,
    { name: 'w', schedulerAddress: () => 'fake://s', nthreads: 1, memoryLimit: 0, workerStartTimeout: 300, lostWorkerTimeout: 15 },
    rx,
    logger,
  );
  const heuristic = new ScriptedHeuristic();
  const adaptive = new Adaptive(
    { store, scheduler, cluster, heuristic, strategy: keepFirst, workerKey: { key: (w) => w.name }, rx, logger },
    {
      interval: 1,
      minimum: 0,
      maximum: Infinity,
      waitCount: 3,
      ...options,
    },
  );
  const records: DecisionRecord[] = [];
  adaptive.decisions$.subscribe((r) => records.push(r));
  /** Connects every started-but-unconnected worker to the fake scheduler. */
  const arrive = () => {
    for (const name of backend.active) {
      if (!store.workerNames().includes(name)) {
        scheduler.emit({
          type: 'worker.added',
          worker: { name, address: `tcp://127.0.0.1/${name}`, host: '127.0.0.1', nthreads: 1, memoryLimit: 0, nbytes: 0, status: 'running', labels: {} },
        });
      }
    }
  };
  return { store, scheduler, backend, cluster, heuristic, adaptive, records, logger, arrive };
}
