import { expect } from 'chai';
import { SchedulerStateStore } from '../../src/state/SchedulerStateStore.js';
import { setup, transitions } from './helpers.js';

describe('SchedulingModel', () => {
  it('queues submitted tasks FIFO and assigns them to free slots when asked, recording the start time', () => {
    const s = setup();
    s.submit('a-0', 'a-1', 'b-0');
    // Nothing happens until the host schedules, and with no worker nothing can.
    expect(s.model.schedule(0)).to.equal(0);
    const w0 = s.add('w0', 2);
    const w1 = s.add('w1', 1);
    expect(s.model.schedule(1500)).to.equal(3);
    expect(s.assigned).to.deep.equal(['a-0@w0#1', 'a-1@w0#2', 'b-0@w1#3']);
    expect(transitions(s.events)).to.deep.equal(['a-0 queued', 'a-1 queued', 'b-0 queued', 'a-0 processing w0', 'a-1 processing w0', 'b-0 processing w1']);
    expect(s.events[0]).to.deep.equal({ type: 'task.transition', key: 'a-0', prefix: 'a', to: 'queued' });
    expect(s.model.task('a-0')).to.deep.include({ status: 'processing', worker: w0, run: 1, startedAt: 1500, data: 'spec of a-0' });
    expect(s.model.processingCount).to.equal(3);
    expect([...w0.processing.keys()]).to.deep.equal([1, 2]);
    expect(w1.processing.size).to.equal(1);
    // Full: the next task waits.
    s.submit('c-0');
    expect(s.model.schedule(1600)).to.equal(0);
    expect(s.model.queuedCount).to.equal(1);
    expect(s.store.counts()).to.deep.equal({ workers: 2, queued: 1, unrunnable: 0, processing: 3 });
  });

  it('places each task on the running worker with the most free slots, ties by registration order', () => {
    const s = setup();
    s.add('small', 1);
    s.add('big', 3);
    s.add('other', 3);
    s.submit('t-0', 't-1', 't-2', 't-3', 't-4');
    s.model.schedule(0);
    // Free slots (small, big, other): 1,3,3 -> big; 1,2,3 -> other; 1,2,2 -> big (tie: registered
    // first); 1,1,2 -> other; 1,1,1 -> small.
    expect(s.assigned.map((a) => a.split('#')[0])).to.deep.equal(['t-0@big', 't-1@other', 't-2@big', 't-3@other', 't-4@small']);
  });

  it('stores a finished run as memory on its worker (duration, then nbytes) and frees the slot', () => {
    const s = setup();
    const w = s.add('w0');
    const [t] = s.submit('x-0');
    s.model.schedule(0);
    const done = s.model.finished(w, t!.run, { key: 'x-0', nbytes: 120, duration: 2.5 });
    expect(done).to.equal(t);
    expect(t).to.deep.include({ status: 'memory', worker: undefined, nbytes: 120 });
    expect([...t!.holders]).to.deep.equal([w]);
    expect(w).to.deep.include({ nbytes: 120 });
    expect(w.processing.size).to.equal(0);
    expect(s.events.slice(-2)).to.deep.equal([
      { type: 'task.transition', key: 'x-0', to: 'memory', duration: 2.5 },
      { type: 'worker.updated', name: 'w0', nbytes: 120 },
    ]);
    expect(s.store.snapshot(0).prefixes.x!.durationAverage).to.equal(2.5);
    expect(s.model.processingCount).to.equal(0);
  });

  it('treats reports about a run that is no longer current as stale: the slot is freed, nothing is stored', () => {
    const s = setup();
    const w = s.add('w0');
    const [released, requeued] = s.submit('r-0', 'q-0');
    s.model.schedule(0);
    s.add('w1');
    s.model.schedule(0);
    const runOfReleased = released!.run;
    s.model.release('r-0');
    expect(released!.status).to.equal('released');
    // The released run still takes its slot until reported.
    expect(w.processing.size).to.equal(1);
    s.submit('n-0');
    expect(s.model.schedule(0)).to.equal(0);
    expect(s.model.finished(w, runOfReleased, { nbytes: 5, duration: 1 })).to.equal(undefined);
    expect(w.processing.size).to.equal(0);
    expect(w.nbytes).to.equal(0);
    // A report naming another key than the run's is stale too.
    const w1 = s.model.worker('w1')!;
    expect(s.model.finished(w1, requeued!.run, { key: 'not-q', nbytes: 5, duration: 1 })).to.equal(undefined);
    expect(requeued!.status).to.equal('processing');
    // A failure report for an unknown run changes nothing.
    expect(s.model.erred(w1, 999, 'q-0')).to.equal(undefined);
  });

  it('records a failed run as erred', () => {
    const s = setup();
    const w = s.add('w0');
    const [t] = s.submit('f-0');
    s.model.schedule(0);
    expect(s.model.erred(w, t!.run, 'f-0')).to.equal(t);
    expect(t!.status).to.equal('erred');
    expect(transitions(s.events).at(-1)).to.equal('f-0 erred');
    expect(s.store.counts().processing).to.equal(0);
  });

  it('release forgets a task in any state, drops its bytes from every holder and returns them', () => {
    const s = setup();
    const a = s.add('a');
    const b = s.add('b');
    const [t, queued] = s.submit('m-0', 'm-1');
    s.model.schedule(0);
    s.model.finished(a, t!.run, { nbytes: 10, duration: 1 });
    s.model.finished(b, queued!.run, { nbytes: 7, duration: 1 });
    s.model.setStatus(a, 'closing');
    s.model.addReplicas(b, [t!]);
    expect(b.nbytes).to.equal(17);
    const before = s.events.length;
    expect(s.model.release('m-0')).to.deep.equal([a, b]);
    expect(s.events.slice(before)).to.deep.equal([
      { type: 'worker.updated', name: 'a', nbytes: 0 },
      { type: 'worker.updated', name: 'b', nbytes: 7 },
      { type: 'task.transition', key: 'm-0', to: 'released' },
    ]);
    expect(s.model.task('m-0')).to.equal(undefined);
    expect(s.model.release('m-0')).to.equal(undefined);
    // A queued task leaves the queue.
    s.submit('z-0');
    s.model.release('z-0');
    expect(s.model.queuedCount).to.equal(0);
    expect(s.model.taskCount).to.equal(1);
  });

  it('a lost worker: its runs are queued again (with their prefix) and its unique results are lost, kept lost until recomputed', () => {
    const s = setup('keep');
    const a = s.add('a', 2);
    const b = s.add('b', 1);
    const [held, shared, running] = s.submit('held-0', 'shared-0', 'run-0');
    s.model.schedule(0);
    expect(s.assigned.map((x) => x.split('#')[0])).to.deep.equal(['held-0@a', 'shared-0@a', 'run-0@b']);
    s.model.finished(a, held!.run, { nbytes: 1, duration: 1 });
    s.model.finished(a, shared!.run, { nbytes: 2, duration: 1 });
    s.model.addReplicas(b, [shared!]);
    s.submit('run-1');
    s.model.schedule(0);
    const before = s.events.length;
    const lost = s.model.removeWorker(a);
    expect(lost).to.deep.equal([held]);
    expect(s.events.slice(before)).to.deep.equal([
      { type: 'task.transition', key: 'run-1', prefix: 'run', to: 'queued' },
      { type: 'task.transition', key: 'held-0', to: 'released' },
      { type: 'worker.removed', name: 'a' },
    ]);
    expect(held!.status).to.equal('lost');
    expect([...shared!.holders]).to.deep.equal([b]);
    expect(a).to.deep.include({ gone: true, nbytes: 0 });
    expect(s.model.worker('a')).to.equal(undefined);
    expect(s.model.removeWorker(a)).to.deep.equal([]);
    // The host decides when to recompute: it goes to the back of the queue, with its prefix.
    s.model.recompute(held!);
    expect(transitions(s.events).at(-1)).to.equal('held-0 queued');
    expect(s.events.at(-1)).to.deep.include({ prefix: 'held' });
    expect(s.store.counts()).to.deep.equal({ workers: 1, queued: 2, unrunnable: 0, processing: 1 });
  });

  it("with lostResults 'recompute', a lost result is queued again at once", () => {
    const s = setup('recompute');
    const a = s.add('a');
    const [t] = s.submit('r-0');
    s.model.schedule(0);
    s.model.finished(a, t!.run, { nbytes: 4, duration: 1 });
    expect(s.model.removeWorker(a)).to.deep.equal([t]);
    expect(transitions(s.events).slice(-2)).to.deep.equal(['r-0 released', 'r-0 queued']);
    expect(t!.status).to.equal('queued');
    s.add('b');
    s.model.schedule(0);
    expect(s.assigned.at(-1)).to.equal('r-0@b#2');
  });

  it('dropReplica: a holder that no longer has a result loses it when it was the last', () => {
    const s = setup();
    const a = s.add('a');
    const b = s.add('b');
    const [t] = s.submit('d-0');
    s.model.schedule(0);
    s.model.finished(a, t!.run, { nbytes: 3, duration: 1 });
    s.model.addReplicas(b, [t!]);
    expect(s.model.dropReplica(a, 'd-0')).to.equal(undefined);
    expect(a.nbytes).to.equal(0);
    expect(s.model.dropReplica(a, 'd-0')).to.equal(undefined);
    expect(s.model.dropReplica(b, 'd-0')).to.equal(t);
    expect(t!.status).to.equal('lost');
  });

  it('addReplicas counts only new copies of results still in memory and returns the others as unwanted', () => {
    const s = setup();
    const a = s.add('a', 2);
    const b = s.add('b');
    const [x, y] = s.submit('x-0', 'y-0');
    s.model.schedule(0);
    s.model.finished(a, x!.run, { nbytes: 5, duration: 1 });
    s.model.finished(a, y!.run, { nbytes: 6, duration: 1 });
    s.model.release('y-0');
    const r = s.model.addReplicas(b, [x!, y!]);
    expect(r).to.deep.equal({ movedBytes: 5, unwanted: [y] });
    expect(s.model.addReplicas(b, [x!]).movedBytes).to.equal(0);
    expect(b.nbytes).to.equal(5);
  });

  it('uniqueResultsOf ignores copies on closing workers (two retiring workers may hold the only two)', () => {
    const s = setup();
    const a = s.add('a');
    const b = s.add('b');
    s.add('c');
    const [t] = s.submit('u-0');
    s.model.schedule(0);
    s.model.finished(a, t!.run, { nbytes: 1, duration: 1 });
    s.model.addReplicas(b, [t!]);
    expect(s.model.uniqueResultsOf(a)).to.deep.equal([]);
    s.model.setStatus(b, 'closing');
    s.model.setStatus(a, 'closing');
    expect(s.model.uniqueResultsOf(a)).to.deep.equal([t]);
    expect(s.model.uniqueResultsOf(b)).to.deep.equal([t]);
  });

  it('closing workers get no tasks; running again, they do', () => {
    const s = setup();
    const a = s.add('a');
    s.model.setStatus(a, 'closing');
    s.submit('k-0');
    expect(s.model.schedule(0)).to.equal(0);
    s.model.setStatus(a, 'running');
    expect(s.model.schedule(0)).to.equal(1);
    expect(s.events.filter((e) => e.type === 'worker.updated').map((e) => (e as { status?: string }).status)).to.deep.equal(['closing', 'running']);
  });

  it('requeueRunsOf queues again what a worker runs; the runs keep their slots and report stale', () => {
    const s = setup();
    const a = s.add('a');
    const [t] = s.submit('q-0');
    s.model.schedule(0);
    const run = t!.run;
    s.model.setStatus(a, 'closing');
    s.model.requeueRunsOf(a);
    expect(t!.status).to.equal('queued');
    expect(a.processing.size).to.equal(1);
    expect(s.model.finished(a, run, { nbytes: 1, duration: 1 })).to.equal(undefined);
    expect(s.model.processingCount).to.equal(0);
  });

  it('executing reports only current runs; reportExecuting gives the longest per prefix', () => {
    const s = setup();
    const a = s.add('a', 3);
    const [p] = s.submit('p-0', 'p-1', 'q-0');
    s.model.schedule(1000);
    s.submit('p-2');
    s.add('b');
    s.model.schedule(2500);
    s.model.executing(a, p!.run, 'p-0', 1.5);
    s.model.executing(a, p!.run, 'other', 9);
    s.model.executing(a, 999, 'p-0', 9);
    const before = s.events.length;
    s.model.reportExecuting(4000);
    expect(s.events.slice(before - 1)).to.deep.equal([
      { type: 'task.executing', prefix: 'p', elapsed: 1.5 },
      { type: 'task.executing', prefix: 'p', elapsed: 3 },
      { type: 'task.executing', prefix: 'q', elapsed: 3 },
    ]);
  });

  it('replays its current state as events that rebuild the same store', () => {
    const s = setup();
    const a = s.add('a', 1);
    s.add('b', 1);
    const [t] = s.submit('x-0', 'y-0', 'z-0');
    s.model.schedule(0);
    s.model.finished(a, t!.run, { nbytes: 9, duration: 1 });
    s.model.setStatus(a, 'closing');
    const late = new SchedulerStateStore();
    for (const e of s.model.replay()) late.apply(e);
    expect(late.counts()).to.deep.equal(s.store.counts());
    expect(late.snapshot(0).workers).to.deep.equal(s.store.snapshot(0).workers);
    expect(s.model.replay()[0]).to.deep.equal({
      type: 'worker.added',
      worker: { name: 'a', address: 'tcp://a', host: 'h', nthreads: 1, memoryLimit: 0, nbytes: 9, status: 'closing', labels: { pool: 'p' } },
    });
  });

  it('refuses a duplicate worker name or task key (hosts decide what those mean)', () => {
    const s = setup();
    s.add('a');
    s.submit('k-0');
    expect(() => s.add('a')).to.throw('already in the model');
    expect(() => s.submit('k-0')).to.throw('already in the model');
  });
});
