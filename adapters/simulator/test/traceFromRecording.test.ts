import { expect } from 'chai';
import { EbbtideError, type SchedulerEvent } from '@ebbtide/core';
import { SimulatedScheduler } from '../src/sim/SimulatedScheduler.js';
import { VirtualClock } from '../src/sim/VirtualClock.js';
import type { TraceTask } from '../src/trace/Trace.js';
import { traceFromRecording } from '../src/trace/traceFromRecording.js';
import { runClock, traceOf } from './helpers.js';

const HEADER = JSON.stringify({ type: 'header', version: 1, name: 'rec', startedAt: '2024-01-01T00:00:00Z' });
const line = (t: number, event: SchedulerEvent) => JSON.stringify({ t, event });

describe('traceFromRecording', () => {
  it('recovers the tasks of a recorded run: submit, prefix, duration, holdFor and nbytes', async () => {
    const tasks: TraceTask[] = [
      { t: 0.5, key: 'load-0', prefix: 'load', duration: 2, nbytes: 1000, holdFor: 0 },
      { t: 0.5, key: 'load-1', prefix: 'load', duration: 3, nbytes: 2000, holdFor: 10 },
      { t: 0.5, key: 'load-2', prefix: 'load', duration: 1, nbytes: 0, holdFor: 4 },
      { t: 4, key: 'fit-x', prefix: 'fit', duration: 0.25, nbytes: 5, holdFor: 0 },
    ];
    const clock = new VirtualClock();
    const sched = new SimulatedScheduler(traceOf(tasks), { bandwidth: 1e8, heartbeatInterval: 1 }, clock);
    // Recorded with wall-clock-like times: the converter shifts them to start at 0.
    const lines = [HEADER];
    sched.events$.subscribe((e) => lines.push(line(1000 + clock.now() / 1000, e)));
    await sched.start();
    sched.connect({ name: 'w-0', scheduler: sched.address, nthreads: 2, memoryLimit: 0 });
    lines.push(JSON.stringify({ t: 1001, decision: { tick: 1, target: 1 } }));
    await runClock(clock, 30_000);

    const trace = traceFromRecording(lines);
    expect(trace.name).to.equal('rec');
    // load-2 waited for a slot (queued at 0.5): its submit time is still 0.5.
    expect(trace.tasks).to.deep.equal(tasks);
  });

  it('handles erred, unfinished and still-held tasks, and keys without a prefix', () => {
    const text = [
      HEADER,
      line(10, { type: 'worker.added', worker: { name: 'w', address: 'a', host: 'h', nthreads: 1, memoryLimit: 0, nbytes: 0, status: 'running', labels: {} } }),
      line(11, { type: 'task.transition', key: 'boom-1', to: 'queued' }),
      line(12, { type: 'task.transition', key: 'boom-1', to: 'processing', worker: 'w' }),
      line(14.5, { type: 'task.transition', key: 'boom-1', to: 'erred' }),
      line(15, { type: 'task.transition', key: 'sum-2', prefix: 'sum', to: 'queued' }),
      line(15, { type: 'task.transition', key: 'sum-2', to: 'processing', worker: 'w' }),
      line(18, { type: 'task.transition', key: 'sum-2', to: 'memory' }),
      line(16, { type: 'task.transition', key: 'never-3', prefix: 'never', to: 'queued' }),
      line(30, { type: 'worker.updated', name: 'w', status: 'running' }),
      '',
    ].join('\n');
    const trace = traceFromRecording(text, 'named');
    expect(trace).to.deep.equal({
      version: 1,
      name: 'named',
      tasks: [
        { t: 1, key: 'boom-1', prefix: 'boom', duration: 2.5, nbytes: 0, holdFor: 0 },
        // No duration on the event: completion - processing start. Still held at the end (t=20).
        { t: 5, key: 'sum-2', prefix: 'sum', duration: 3, nbytes: 0, holdFor: 12 },
      ],
    });
  });

  it('rejects a recording without a header, a bad line and an unknown version, naming the line', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as EbbtideError;
      }
      throw new Error('expected an error');
    };
    expect(err(() => traceFromRecording([line(1, { type: 'worker.removed', name: 'w' })])).message).to.match(/line 1: expected the header/);
    expect(err(() => traceFromRecording([HEADER, '{not json'])).message).to.match(/line 2: not JSON/);
    expect(err(() => traceFromRecording([HEADER, JSON.stringify({ t: 'soon', event: {} })])).message).to.match(/line 2: expected a number t/);
    expect(err(() => traceFromRecording([JSON.stringify({ type: 'header', version: 2 })])).message).to.match(/unsupported recording version 2/);
    expect(err(() => traceFromRecording(''))).to.be.instanceOf(EbbtideError).with.property('code', 'INPUT_INVALID');
  });
});
