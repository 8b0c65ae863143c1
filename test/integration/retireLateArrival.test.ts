import 'reflect-metadata';
import { expect } from 'chai';
import { VirtualTimeScheduler } from 'rxjs';
import { Autoscaler, type DecisionRecord, type RetireResult, type ScalingHeuristic, type WorkersToClose, definePlugin } from '@ebbtide/core';
import { FakeBackend, FakeScheduler, createTestKernel, makeWorker } from '@ebbtide/core/testing';

/**
 * A scale-down that both retires connected workers and cancels one that has not connected yet:
 * the cancelled worker may connect while the retirement runs (moving data takes time) and be
 * given work and results at once — it must then be retired too, not stopped under them. Found
 * by `ebbtide simulate` on docs/examples/spill-over.yaml (workers slow to arrive, retirements
 * moving hundreds of MB): 46 results lost in a day before the fix, none after.
 */

class ScriptedHeuristic implements ScalingHeuristic {
  value = 0;
  target() {
    return { target: this.value, explanation: { scripted: this.value } };
  }
}

const keepFirst: WorkersToClose = { select: (s, q) => s.workers.slice(q.target ?? 0).map((w) => w.name) };
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('retiring while a cancelled worker arrives', () => {
  it('retires a worker that connected during the retirement instead of stopping it unretired', async () => {
    const rx = new VirtualTimeScheduler();
    const heuristic = new ScriptedHeuristic();
    const scripted = definePlugin({
      name: 'scripted',
      register(r) {
        r.heuristic('scripted', () => heuristic);
        r.workersToClose('keep-first', () => keepFirst);
      },
    });
    const kernel = await createTestKernel({
      plugins: [scripted],
      config: { heuristic: 'scripted', workersToClose: 'keep-first', cluster: { name: 'c' }, adaptive: { interval: '1s', waitCount: 1 } },
      rxScheduler: rx,
    });
    const scheduler = new FakeScheduler();
    const backend = new FakeBackend();
    const auto = await Autoscaler.start(kernel, { scheduler, backend });
    const records: DecisionRecord[] = [];
    auto.decisions$.subscribe((r) => records.push(r));
    const tick = async () => {
      rx.maxFrames = rx.frame + 1000;
      rx.flush();
      rx.frame = rx.maxFrames;
      for (let i = 0; i < 5; i++) await drain();
    };
    try {
      heuristic.value = 2;
      await tick();
      expect(records.at(-1)!.outcome?.started).to.deep.equal(['c-0', 'c-1']);
      // c-0 connects; c-1 is still starting when the work is gone.
      scheduler.emit({ type: 'worker.added', worker: makeWorker('c-0') });
      await tick();
      // The retirement of c-0 takes a while: c-1 connects meanwhile (and could be given work).
      let first = true;
      scheduler.retireImpl = async (names): Promise<RetireResult> => {
        if (first) {
          first = false;
          scheduler.emit({ type: 'worker.added', worker: makeWorker('c-1') });
        }
        for (const name of names) scheduler.emit({ type: 'worker.removed', name });
        return { outcomes: names.map((name) => ({ name, status: 'retired' as const, movedBytes: 0 })) };
      };
      heuristic.value = 0;
      await tick();
      const down = records.at(-1)!;
      expect(down.recommendation).to.deep.equal({ status: 'down', workers: ['c-1', 'c-0'] });
      expect(scheduler.retires).to.deep.equal([['c-0'], ['c-1']]);
      expect(down.outcome).to.deep.include({ status: 'scaled-down', retired: ['c-0', 'c-1'] });
      expect(down.outcome?.cancelled).to.equal(undefined);
      expect(backend.retiredStops).to.include.members(['c-0', 'c-1']);
    } finally {
      await auto.shutdown('test end');
    }
  });
});
