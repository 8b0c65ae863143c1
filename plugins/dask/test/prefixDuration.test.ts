// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes
// load (they import tsyringe before @ebbtide/core, so importing one directly would fail).
import '@ebbtide/core';
import { expect } from 'chai';
import type { TaskPrefixInfo } from '@ebbtide/core';
import { makePrefix, makeSnapshot, makeWorker } from '@ebbtide/core/testing';
import { adaptiveTarget } from '../src/adaptiveTarget.js';
import { prefixDuration } from '../src/prefixDuration.js';
import { daskContext } from './helpers.js';

/*
 * Spec §3.2 (_get_prefix_duration): the learned average; if unknown, 2 x max_exec_time when a
 * task has been seen running; else the prefix's configured default (which Dask seeds into the
 * average at prefix creation); else unknown-task-duration (0.5 s).
 */
describe('prefixDuration — spec §3.2 per-prefix duration estimate', () => {
  const ctx = daskContext({ defaultTaskDurations: { 'rechunk-split': 1e-6, slowinc: 10 } });
  const rows: Array<{ label: string; name: string; info: TaskPrefixInfo | undefined; expected: number }> = [
    { label: 'learned average wins over a configured default', name: 'slowinc', info: makePrefix({ durationAverage: 3, maxExecTime: 50 }), expected: 3 },
    { label: 'a learned average of 0 is a known duration', name: 'inc', info: makePrefix({ durationAverage: 0 }), expected: 0 },
    { label: 'forgotten average (-1) with a running task seen for 4 s -> 2 x 4', name: 'slowinc', info: makePrefix({ maxExecTime: 4 }), expected: 8 },
    { label: 'no average, no running time, configured default', name: 'rechunk-split', info: makePrefix(), expected: 1e-6 },
    { label: 'no average, max_exec_time 0 (not > 0), configured default', name: 'slowinc', info: makePrefix({ maxExecTime: 0 }), expected: 10 },
    { label: 'nothing known -> unknown-task-duration', name: 'inc', info: makePrefix(), expected: 0.5 },
    { label: 'prefix never seen, with a default', name: 'slowinc', info: undefined, expected: 10 },
    { label: 'prefix never seen, no default -> unknown-task-duration', name: 'inc', info: undefined, expected: 0.5 },
  ];
  for (const { label, name, info, expected } of rows) {
    it(`§3.2 ${label} -> ${expected} s`, () => {
      expect(prefixDuration(name, info, ctx)).to.equal(expected);
    });
  }

  it('§3.2 unknown-task-duration comes from the context', () => {
    expect(prefixDuration('inc', makePrefix(), daskContext({ unknownTaskDuration: 2 }))).to.equal(2);
  });

  it('§3.2/§3.3 occupancy uses the estimate: 1 task of a forgotten prefix seen running 100 s counts 200 s', () => {
    const w = makeWorker('w0', { nthreads: 1, processing: { slow: 1 } });
    const result = adaptiveTarget(makeSnapshot([w], { slow: makePrefix({ maxExecTime: 100 }) }), daskContext());
    expect(result.explanation.occupancy).to.equal(200);
  });

  it('§3.4 step 1: queued tasks of different prefixes each use their own estimate', () => {
    // 10 x 1 s (learned) + 10 x 0.5 s (unknown) + 10 x 2 x 3 s (seen running) = 75 s -> ceil(75/5) = 15.
    const prefixes = {
      a: makePrefix({ durationAverage: 1, queued: 10 }),
      b: makePrefix({ queued: 10 }),
      c: makePrefix({ maxExecTime: 3, unrunnable: 10 }),
    };
    expect(adaptiveTarget(makeSnapshot([], prefixes), daskContext()).target).to.equal(15);
  });
});
