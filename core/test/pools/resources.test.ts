import { expect } from 'chai';
import type { SchedulerEvent } from '../../src/contracts/SchedulerEvent.js';
import { resourceDemand } from '../../src/pools/resourceDemand.js';
import { SchedulingModel } from '../../src/scheduling/SchedulingModel.js';
import { SchedulerStateStore } from '../../src/state/SchedulerStateStore.js';
import { makeWorker } from '../../src/testing/fakes.js';

const worker = (name: string, nthreads: number, resources?: Record<string, number>) => ({
  name,
  nthreads,
  memoryLimit: 0,
  address: `tcp://127.0.0.1/${name}`,
  host: '127.0.0.1',
  labels: {},
  ...(resources ? { resources } : {}),
});

describe('resource restrictions', () => {
  describe('the shared scheduling model', () => {
    function model() {
      const events: SchedulerEvent[] = [];
      const store = new SchedulerStateStore();
      const m = new SchedulingModel<number, undefined>({
        emit: (e) => {
          events.push(e);
          store.apply(e);
        },
        lostResults: 'recompute',
      });
      return { m, events, store };
    }

    it('runs a task that needs a GPU only on a worker offering one, and no more at once than it has', () => {
      const { m } = model();
      const cpu = m.addWorker(worker('cpu', 4), undefined);
      const gpu = m.addWorker(worker('gpu', 4, { GPU: 2 }), undefined);
      for (let i = 0; i < 3; i++) m.submit(`train-${i}`, 'train', i, { GPU: 1 });
      m.schedule(0);
      expect([...gpu.processing.values()].map((t) => t.key)).to.deep.equal(['train-0', 'train-1']);
      expect(cpu.processing.size).to.equal(0);
      expect(m.task('train-2')!.status).to.equal('queued');
      // The third waits for a GPU to be free, not for a thread.
      const [run] = [...gpu.processing.keys()];
      m.finished(gpu, run!, { nbytes: 1, duration: 1 });
      m.schedule(1);
      expect(m.task('train-2')!.worker?.name).to.equal('gpu');
    });

    it('a blocked GPU task does not hold up plain tasks queued behind it', () => {
      const { m } = model();
      const cpu = m.addWorker(worker('cpu', 2), undefined);
      m.submit('train-0', 'train', 0, { GPU: 1 });
      m.submit('inc-0', 'inc', 1);
      m.submit('train-1', 'train', 2, { GPU: 1 });
      m.submit('inc-1', 'inc', 3);
      expect(m.schedule(0)).to.equal(2);
      expect([...cpu.processing.values()].map((t) => t.key)).to.deep.equal(['inc-0', 'inc-1']);
      expect(m.queuedCount).to.equal(2);
    });

    it('reports restrictions and worker resources as events, so a store counts tasks per resource', () => {
      const { m, store } = model();
      m.addWorker(worker('gpu', 1, { GPU: 1 }), undefined);
      m.submit('train-0', 'train', 0, { GPU: 1 });
      m.submit('train-1', 'train', 1, { GPU: 1 });
      m.submit('inc-0', 'inc', 2);
      m.schedule(0);
      const s = store.snapshot(0);
      expect(s.workers[0]!.resources).to.deep.equal({ GPU: 1 });
      expect(s.resources).to.deep.equal({ GPU: { waiting: 1, processing: 1, units: { train: 2 } } });
      // A replay rebuilds the same counts.
      const again = new SchedulerStateStore();
      for (const e of m.replay()) again.apply(e);
      expect(again.snapshot(0).resources).to.deep.equal(s.resources);
    });

    it('a lost worker: its GPU run is queued again with its restriction', () => {
      const { m, store } = model();
      const gpu = m.addWorker(worker('gpu', 1, { GPU: 1 }), undefined);
      m.submit('train-0', 'train', 0, { GPU: 1 });
      m.schedule(0);
      m.removeWorker(gpu);
      expect(store.snapshot(0).resources).to.deep.equal({ GPU: { waiting: 1, processing: 0, units: { train: 1 } } });
    });
  });

  describe('the state store', () => {
    it('has no resources field while no task needs one (snapshots look as before)', () => {
      const store = new SchedulerStateStore();
      store.apply({ type: 'task.transition', key: 'a', prefix: 'a', to: 'queued' });
      expect(store.snapshot(0)).not.to.have.property('resources');
    });

    it('counts units per prefix as tasks move, and forgets them once done', () => {
      const store = new SchedulerStateStore();
      store.apply({ type: 'worker.added', worker: { ...makeWorker('w'), resources: { GPU: 4 } } });
      store.apply({ type: 'task.transition', key: 'big', prefix: 'big', to: 'queued', resources: { GPU: 2, MEM: 10 } });
      store.apply({ type: 'task.transition', key: 'small', prefix: 'small', to: 'unrunnable', resources: { GPU: 1 } });
      store.apply({ type: 'task.transition', key: 'big', to: 'processing', worker: 'w' });
      expect(store.snapshot(0).resources).to.deep.equal({
        GPU: { waiting: 1, processing: 1, units: { big: 2, small: 1 } },
        MEM: { waiting: 0, processing: 1, units: { big: 10 } },
      });
      store.apply({ type: 'task.transition', key: 'big', to: 'memory', duration: 3 });
      store.apply({ type: 'task.transition', key: 'small', to: 'released' });
      expect(store.snapshot(0)).not.to.have.property('resources');
    });

    it("keeps a polling adapter's resource counts from its snapshot", () => {
      const store = new SchedulerStateStore();
      store.apply({ type: 'snapshot', snapshot: { time: 0, workers: [], prefixes: {}, resources: { GPU: { waiting: 3, processing: 0, units: { train: 3 } } } } });
      expect(store.snapshot(1).resources).to.deep.equal({ GPU: { waiting: 3, processing: 0, units: { train: 3 } } });
    });
  });

  describe('resourceDemand (the default estimate)', () => {
    const o = { targetDuration: 5, unknownTaskDuration: 0.5, defaultTaskDurations: {} };
    it("units x expected seconds over the target duration, as Dask estimates CPU: at least 1, at most what the tasks ask", () => {
      const resources = { GPU: { waiting: 10, processing: 0, units: { train: 10 } } };
      const prefixes = { train: { durationAverage: 2, maxExecTime: -1, queued: 10, unrunnable: 0 } };
      expect(resourceDemand({ time: 0, workers: [], prefixes, resources }, o)).to.deep.equal({ GPU: 4 });
      expect(resourceDemand({ time: 0, workers: [], prefixes: { train: { ...prefixes.train, durationAverage: 60 } }, resources }, o)).to.deep.equal({ GPU: 10 });
      // Unknown durations: 0.5s each, 5 unit-seconds over 5s: one unit.
      expect(resourceDemand({ time: 0, workers: [], prefixes: {}, resources }, o)).to.deep.equal({ GPU: 1 });
      expect(resourceDemand({ time: 0, workers: [], prefixes: {} }, o)).to.deep.equal({});
    });
  });
});
