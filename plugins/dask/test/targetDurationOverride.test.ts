// Core first: it loads reflect-metadata, which tsyringe needs before the plugin's decorated classes load.
import '@ebbtide/core';
import { expect } from 'chai';
import { makeSnapshot } from '@ebbtide/core/testing';
import { DaskTargetHeuristic } from '../src/DaskTargetHeuristic.js';
import { daskContext, learnedPrefix } from './helpers.js';

describe('heuristic dask: a targetDuration in the context (adapt(target_duration=)) wins over the configured one', () => {
  it('60 s of queued work asks for 12 workers at 5 s, 6 at 10 s, and 12 again without the override', () => {
    const h = new DaskTargetHeuristic(daskContext({ targetDuration: 5 }));
    const snapshot = makeSnapshot([], { block: learnedPrefix(1, { queued: 60 }) });
    expect(h.target(snapshot, { minimum: 0, maximum: Infinity }).target).to.equal(12);
    expect(h.target(snapshot, { minimum: 0, maximum: Infinity, targetDuration: 10 }).target).to.equal(6);
    expect(h.target(snapshot, { minimum: 0, maximum: Infinity }).target).to.equal(12);
  });
});
