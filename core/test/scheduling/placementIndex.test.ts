import { expect } from 'chai';
import type { SchedulerEvent } from '../../src/contracts/SchedulerEvent.js';
import { SchedulingModel } from '../../src/scheduling/SchedulingModel.js';
import type { ModelTask, ModelWorker } from '../../src/scheduling/records.js';
import { SchedulerStateStore } from '../../src/state/SchedulerStateStore.js';
import { seeded as random } from '../../src/testing/sampleSnapshots.js';

type M = SchedulingModel<string, string>;
type Wk = ModelWorker<string, string>;

/**
 * What `pickWorker` finds scanning every worker in registration order, `just` counted as it was
 * before its newest run (the check runs from the `assigned` callback, after the run was added).
 */
function scanned(model: M, just: Wk): Wk | undefined {
  let best: Wk | undefined;
  let bestFree = 0;
  for (const w of model.workers()) {
    if (w.status !== 'running') continue;
    const free = w.nthreads - w.processing.size + (w === just ? 1 : 0);
    if (free > bestFree) {
      best = w;
      bestFree = free;
    }
  }
  return best;
}

describe('SchedulingModel placement index', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`places every task where a scan of all workers would, through a long random run (seed ${seed})`, () => {
      const rnd = random(seed);
      const pick = <X>(xs: readonly X[]): X | undefined => (xs.length ? xs[Math.floor(rnd() * xs.length)] : undefined);
      let checked = 0;
      let mismatch: string | undefined;
      const model: M = new SchedulingModel<string, string>({
        emit: () => {},
        assigned: (t, w) => {
          checked++;
          const want = scanned(model, w);
          if (want !== w && !mismatch) mismatch = `${t.key} went to ${w.name}, a scan picks ${want?.name}`;
        },
        lostResults: rnd() < 0.5 ? 'keep' : 'recompute',
      });
      let tasks = 0;
      for (let step = 0; step < 3000; step++) {
        const r = rnd();
        const all = [...model.workers()];
        if (r < 0.08 || all.length === 0) {
          // Names come back after a removal: a returning worker registers anew (last on ties).
          const name = `w${Math.floor(rnd() * 30)}`;
          if (!model.worker(name)) model.addWorker({ name, nthreads: 1 + Math.floor(rnd() * 4), memoryLimit: 0, address: 'a', host: 'h', labels: {} }, '');
        } else if (r < 0.11) {
          model.removeWorker(pick(all)!);
        } else if (r < 0.16) {
          model.setStatus(pick(all)!, rnd() < 0.5 ? 'closing' : 'running');
        } else if (r < 0.45) {
          const n = 1 + Math.floor(rnd() * 6);
          for (let i = 0; i < n; i++) model.submit(`t-${tasks++}`, 't', '');
        } else if (r < 0.75) {
          // A run ends (done or failed), current or stale.
          const runs = all.flatMap((w) => [...w.processing.keys()].map((run) => [w, run] as const));
          const one = pick(runs);
          if (one) {
            if (rnd() < 0.9) model.finished(one[0], one[1], { nbytes: 10, duration: 1 });
            else model.erred(one[0], one[1]);
          }
        } else if (r < 0.85) {
          const t = pick([...model.tasks()] as Array<ModelTask<string, string>>);
          if (t) model.release(t.key);
        } else if (r < 0.88) {
          model.requeueRunsOf(pick(all)!);
        }
        model.schedule(step);
        // What the queue still holds waits only because no running worker has a free slot.
        if (model.queuedCount > 0) {
          for (const w of model.workers()) if (w.status === 'running') expect(w.processing.size, `${w.name} at step ${step}`).to.be.at.least(w.nthreads);
        }
      }
      expect(mismatch).to.equal(undefined);
      expect(checked).to.be.greaterThan(1000);
    });
  }

  it('builds no events while nobody listens; its replay then rebuilds what a listening twin built', () => {
    let listening = false;
    const quiet: SchedulerEvent[] = [];
    const heard = new SchedulerStateStore();
    const models = [
      new SchedulingModel<string, string>({ emit: (e) => quiet.push(e), listening: () => listening, lostResults: 'recompute' }),
      new SchedulingModel<string, string>({ emit: (e) => heard.apply(e), lostResults: 'recompute' }),
    ];
    for (const m of models) {
      const a = m.addWorker({ name: 'a', nthreads: 2, memoryLimit: 0, address: 'a', host: 'h', labels: {} }, '');
      m.addWorker({ name: 'b', nthreads: 1, memoryLimit: 0, address: 'b', host: 'h', labels: {} }, '');
      for (const k of ['x-0', 'x-1', 'y-0', 'y-1', 'y-2']) m.submit(k, k.split('-')[0]!, '');
      m.schedule(0);
      m.finished(a, [...a.processing.keys()][0]!, { nbytes: 5, duration: 1 });
      m.reportExecuting(2000);
      m.schedule(2000);
    }
    expect(quiet).to.deep.equal([]);
    expect(models[0]!.queuedCount).to.equal(models[1]!.queuedCount);
    expect(models[0]!.processingCount).to.equal(models[1]!.processingCount);
    listening = true;
    const late = new SchedulerStateStore();
    for (const e of models[0]!.replay()) late.apply(e);
    expect(late.counts()).to.deep.equal(heard.counts());
    expect(late.counts().processing).to.equal(3);
  });
});
