import 'reflect-metadata';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchedulerStateStore, type SchedulerSnapshot } from '@ebbtide/core';
import { adaptiveTarget, sumWorkers } from '@ebbtide/plugin-dask';
import { FIXTURES } from '../support/paths.js';

const cases = readFileSync(join(FIXTURES, 'dask-cases.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: number; config: { adaptive: { targetDuration: number } }; snapshot: SchedulerSnapshot });

describe('the state store hands the Dask heuristic the same numbers as the snapshot file', () => {
  for (const c of cases) {
    it(`case ${c.id}: store totals equal the sums over workers, and the target is the same`, () => {
      const store = new SchedulerStateStore();
      store.apply({ type: 'snapshot', snapshot: { time: 0, workers: c.snapshot.workers, prefixes: c.snapshot.prefixes } });
      const fromStore = store.snapshot(0);
      expect(fromStore.totals).to.deep.equal(sumWorkers(c.snapshot.workers));
      const ctx = { targetDuration: c.config.adaptive.targetDuration, unknownTaskDuration: 0.5, defaultTaskDurations: {} };
      const plain = { time: 0, workers: c.snapshot.workers, prefixes: c.snapshot.prefixes };
      expect(adaptiveTarget(fromStore, ctx).target).to.equal(adaptiveTarget(plain, ctx).target);
    });
  }
});
