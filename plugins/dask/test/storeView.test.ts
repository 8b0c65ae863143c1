// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes load.
import '@ebbtide/core';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type SchedulerEvent, type SchedulerSnapshot, SchedulerStateStore, type WorkerKey, decideTick } from '@ebbtide/core';
import { adaptiveTarget } from '../src/adaptiveTarget.js';
import { DaskTargetHeuristic } from '../src/DaskTargetHeuristic.js';
import { DaskWorkersToClose } from '../src/DaskWorkersToClose.js';
import { selectFromView } from '../src/selectFromView.js';
import { selectWorkersToClose } from '../src/selectWorkersToClose.js';
import { HostWorkerKey, LabelWorkerKey, NoneWorkerKey } from '../src/workerKeys.js';
import { daskContext } from './helpers.js';

/** The same data without the store's closing order: what a snapshot file gives `decide`. */
const plain = (s: SchedulerSnapshot): SchedulerSnapshot => JSON.parse(JSON.stringify(s)) as SchedulerSnapshot;

const KEYS: Array<[string, WorkerKey | undefined]> = [
  ['no key', undefined],
  ['none', new NoneWorkerKey()],
  ['host', new HostWorkerKey()],
  ['label:job', new LabelWorkerKey('job')],
];

function randomEvents(seed: number, steps: number): SchedulerEvent[] {
  let s = seed;
  const rand = (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
  const names = Array.from({ length: 10 }, (_, i) => `w-${i}`);
  const out: SchedulerEvent[] = [];
  for (let step = 0; step < steps; step++) {
    const r = rand(16);
    const name = names[rand(names.length)]!;
    const key = `t-${rand(50)}`;
    if (r < 2) {
      out.push({
        type: 'worker.added',
        worker: { name, address: name, host: `h${rand(3)}`, nthreads: 1 + rand(4), memoryLimit: 1000 * rand(8), nbytes: rand(3) ? 100 * rand(20) : 0, status: 'running', labels: rand(2) ? { job: `j${rand(3)}` } : {} },
      });
    } else if (r === 2) out.push({ type: 'worker.removed', name });
    else if (r === 3) out.push({ type: 'worker.updated', name, nbytes: 100 * rand(20) });
    else if (r === 4) out.push({ type: 'task.seceded', key, computeDuration: rand(3) });
    else {
      const to = (['queued', 'processing', 'processing', 'memory', 'released', 'unrunnable'] as const)[rand(6)]!;
      out.push({ type: 'task.transition', key, prefix: `p${rand(3)}`, to, worker: name, duration: rand(4) / 2 });
    }
  }
  return out;
}

describe("Dask's workers_to_close read from the store's closing order", () => {
  it('gives the answer of the from-scratch sort for every query and key, after every step of random events', () => {
    const store = new SchedulerStateStore();
    let checked = 0;
    for (const [step, event] of randomEvents(42, 1000).entries()) {
      store.apply(event);
      const snapshot = store.snapshot(step);
      const W = snapshot.workers.length;
      for (const [name, key] of KEYS) {
        const view = snapshot.closingOrder!(key)!;
        const queries = [{}, { memoryRatio: 1 }, { memoryRatio: 3 }, { n: 1 }, { n: W + 2 }, { n: 2, memoryRatio: 2 }, { target: 1, minimum: 2 }, ...Array.from({ length: W + 1 }, (_, t) => ({ target: t }))];
        for (const q of queries) {
          const expected = selectWorkersToClose(snapshot.workers, { ...q, ...(key ? { key: (w) => key.key(w) } : {}) });
          expect(selectFromView(view, q), `step ${step}, ${name}, ${JSON.stringify(q)}`).to.deep.equal(expected);
          checked++;
        }
      }
      const ctx = daskContext({ targetDuration: 1 + (step % 5) });
      expect(adaptiveTarget(snapshot, ctx), `step ${step}: adaptive_target`).to.deep.equal(adaptiveTarget(plain(snapshot), ctx));
    }
    expect(checked).to.be.greaterThan(20_000);
  });

  it('whole ticks agree, hysteresis included: the store path and the snapshot-file path give the same records', () => {
    const store = new SchedulerStateStore();
    const heuristic = new DaskTargetHeuristic();
    const strategy = new DaskWorkersToClose({ memoryRatio: 1.5 });
    for (const [name, workerKey] of KEYS.slice(1) as Array<[string, WorkerKey]>) {
      let viaStore: Record<string, number> = {};
      let viaFile: Record<string, number> = {};
      for (const [step, event] of randomEvents(7, 1500).entries()) {
        store.apply(event);
        const snapshot = store.snapshot(step);
        const common = { heuristic, strategy, workerKey, minimum: step % 3, maximum: 8, waitCount: 2 };
        const a = decideTick({ ...common, snapshot, closeCounts: viaStore });
        const b = decideTick({ ...common, snapshot: plain(snapshot), closeCounts: viaFile });
        expect(a, `${name}, step ${step}`).to.deep.equal(b);
        viaStore = a.closeCounts;
        viaFile = b.closeCounts;
      }
    }
  });

  describe('the 100 states decided by the real Dask code (test/fixtures/dask-cases.jsonl), through the state store', () => {
    interface Case {
      id: number;
      config: { adaptive: { minimum?: number; maximum?: number; waitCount: number; targetDuration: number }; workerKey: string };
      snapshot: SchedulerSnapshot & { closeCounts?: Record<string, number>; plan?: string[]; requested?: string[] };
      expected: { target: number; workersToClose: string[]; recommendation: unknown; closeCounts: Record<string, number> };
    }
    const file = fileURLToPath(new URL('../../../../test/fixtures/dask-cases.jsonl', import.meta.url));
    const cases = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Case);

    it('has the 100 cases', () => expect(cases).to.have.length(100));
    for (const c of cases) {
      it(`case ${c.id}: the same decision as from the snapshot file, and Dask's workers to close`, () => {
        const { adaptive } = c.config;
        const workerKey = c.config.workerKey === 'host' ? new HostWorkerKey() : new NoneWorkerKey();
        const store = new SchedulerStateStore();
        // Connected one by one, as an event-driven adapter reports them, with their tasks.
        for (const w of c.snapshot.workers) store.apply({ type: 'worker.added', worker: w });
        store.apply({ type: 'snapshot', snapshot: { time: 0, workers: c.snapshot.workers, prefixes: c.snapshot.prefixes } });
        const snapshot = store.snapshot(0);
        const input = {
          heuristic: new DaskTargetHeuristic({ ...daskContext(), targetDuration: adaptive.targetDuration }),
          strategy: new DaskWorkersToClose({}),
          workerKey,
          minimum: adaptive.minimum ?? 0,
          maximum: adaptive.maximum ?? Infinity,
          waitCount: adaptive.waitCount,
          closeCounts: c.snapshot.closeCounts ?? {},
          ...(c.snapshot.plan ? { plan: c.snapshot.plan } : {}),
          ...(c.snapshot.requested ? { requested: c.snapshot.requested } : {}),
        };
        const viaStore = decideTick({ ...input, snapshot });
        const viaFile = decideTick({ ...input, snapshot: { time: 0, workers: c.snapshot.workers, prefixes: c.snapshot.prefixes } });
        expect(viaStore).to.deep.equal(viaFile);
        if (viaStore.target === c.expected.target) {
          expect([...viaStore.workersToClose].sort()).to.deep.equal([...c.expected.workersToClose].sort());
          expect(viaStore.closeCounts).to.deep.equal(c.expected.closeCounts);
        }
      });
    }
  });
});
